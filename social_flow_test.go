package restauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// assertSocialReason checks that err is a *SocialError with reason.
func assertSocialReason(t *testing.T, err error, reason restauth.SocialReason) {
	t.Helper()
	var failed *restauth.SocialError
	require.True(t, errors.As(err, &failed), "a *SocialError, got %v", err)
	assert.Equal(t, reason, failed.Reason)
}

// TestSocialFlowOperations drives the flow through BeginSocialFlow and FinishSocialFlow
// alone, as a dialect other than 291 would: the operations need no HTTP request, own the
// refusals and emit the audit events.
func TestSocialFlowOperations(t *testing.T) {
	t.Parallel()
	p := newOAuthProvider(t)
	p.user = map[string]any{"id": 42, "login": "octo", "email": "octo@example.com"}
	p.emails = []map[string]any{{"email": "octo@example.com", "primary": true, "verified": true}}
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec), func(c *restauth.Config) {
		c.Social.Enabled = true
		c.Social.Registration = true
		unconfigured := restauth.GoogleProvider("", "")
		c.Social.Providers = []restauth.SocialProvider{p.githubAt(), unconfigured}
	})
	ctx := context.Background()
	vic, _ := e.register("vic", goodPassword, "")

	refusals := []struct {
		name   string
		start  restauth.SocialFlowStart
		reason restauth.SocialReason // "" for ErrNotFound
	}{
		{"unknown provider", restauth.SocialFlowStart{Provider: "nope"}, ""},
		{"provider without ClientID", restauth.SocialFlowStart{Provider: "google"}, ""},
		{"cross-site start", restauth.SocialFlowStart{Provider: "github", CrossSite: errors.New("seen")}, restauth.SocialReasonCrossSiteRequest},
		{"connect without a session user", restauth.SocialFlowStart{Provider: "github", Connect: true}, restauth.SocialReasonLoginRequired},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			started, err := e.svc.BeginSocialFlow(ctx, tc.start)
			assert.Nil(t, started)
			if tc.reason == "" {
				assert.ErrorIs(t, err, restauth.ErrNotFound)
				return
			}
			assertSocialReason(t, err, tc.reason)
		})
	}
	_, err := e.svc.FinishSocialFlow(ctx, restauth.SocialFlowCallback{Provider: "nope", State: "s", Code: "c"})
	assert.ErrorIs(t, err, restauth.ErrNotFound)

	// begin starts a flow and has the provider answer it, returning the callback.
	begin := func(start restauth.SocialFlowStart) (*restauth.SocialFlowStarted, restauth.SocialFlowCallback) {
		t.Helper()
		started, err := e.svc.BeginSocialFlow(ctx, start)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(started.AuthURL, p.srv.URL+"/login/oauth/authorize?"), started.AuthURL)
		assert.Equal(t, 10*time.Minute, started.Flow.MaxAge)
		assert.Equal(t, e.clock.Now().Add(10*time.Minute), started.Flow.Expires)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Get(started.AuthURL)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		back, err := url.Parse(res.Header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "http://testserver/api/auth/social/github/callback/", back.Scheme+"://"+back.Host+back.Path, "the redirect URI")
		state := back.Query().Get("state")
		assert.Equal(t, restauth.SocialFlowCookieName(state), started.Flow.Name, "the cookie is found by the state")
		return started, restauth.SocialFlowCallback{Provider: "github", State: state, Code: back.Query().Get("code"), SealedFlow: started.Flow.Value}
	}

	started, cb := begin(restauth.SocialFlowStart{Provider: "github", Next: "/after/?tab=1"})
	wrongCookie := cb
	wrongCookie.SealedFlow = ""
	_, err = e.svc.FinishSocialFlow(ctx, wrongCookie)
	assertSocialReason(t, err, restauth.SocialReasonStateMismatch)
	rec.take()

	res, err := e.svc.FinishSocialFlow(ctx, cb)
	require.NoError(t, err)
	assert.False(t, res.Connected)
	assert.Equal(t, "octo", res.User.Username, "a user created from the profile")
	assert.Equal(t, "http://testserver/after/?tab=1", res.Next, "Next resolved against SiteURL")
	events := rec.take()
	require.Len(t, events, 3)
	assert.Equal(t, restauth.AuditSocialLinked, events[0].Kind)
	assert.Equal(t, restauth.AuditSignedUp, events[1].Kind)
	assert.Equal(t, "method=social provider=github", events[1].Detail)
	assert.Equal(t, restauth.AuditLoginSucceeded, events[2].Kind)
	assert.Equal(t, "method=social provider=github", events[2].Detail)
	assert.Equal(t, restauth.AuditMethodSocial, events[1].Method, "the sign-up's method, typed")
	assert.Equal(t, restauth.AuditMethodSocial, events[2].Method, "the login's method, typed")

	_, err = e.svc.FinishSocialFlow(ctx, cb)
	assertSocialReason(t, err, restauth.SocialReasonFlowReplayed)
	assert.NotEmpty(t, started.Flow.Value)

	// Connect: the account is octo's already, so vic's connect is refused; the session
	// user must be the one the flow started with.
	_, cb = begin(restauth.SocialFlowStart{Provider: "github", Connect: true, User: vic, Next: "https://evil.example/"})
	other := cb
	other.SessionUser = res.User
	_, err = e.svc.FinishSocialFlow(ctx, other)
	assertSocialReason(t, err, restauth.SocialReasonLoginRequired)
	_, cb = begin(restauth.SocialFlowStart{Provider: "github", Connect: true, User: vic})
	cb.SessionUser = vic
	_, err = e.svc.FinishSocialFlow(ctx, cb)
	assertSocialReason(t, err, restauth.SocialReasonAccountInUse)

	p.user = map[string]any{"id": 43, "login": "vic-gh"}
	p.emails = nil
	_, cb = begin(restauth.SocialFlowStart{Provider: "github", Connect: true, User: vic, Next: "https://evil.example/"})
	cb.SessionUser = vic
	res, err = e.svc.FinishSocialFlow(ctx, cb)
	require.NoError(t, err)
	assert.True(t, res.Connected)
	assert.Equal(t, vic.ID, res.User.ID)
	assert.Equal(t, "http://testserver/platform/logged-in/", res.Next, "an off-site Next is dropped")
	kinds := rec.takeKinds()
	assert.Contains(t, kinds, restauth.AuditSocialLinked)
	assert.NotContains(t, kinds, restauth.AuditLoginSucceeded, "a connect logs nobody in")
	accounts, err := e.svc.SocialAccounts(ctx, vic.ID)
	require.NoError(t, err)
	require.Len(t, accounts, 1)
	assert.Equal(t, "43", accounts[0].UID)
}

// TestSocialProvidersInfo: Social.Providers lists Config.Social.Providers in order, with
// their defaults applied.
func TestSocialProvidersInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) {
		custom := restauth.SocialProvider{ID: "corp", ClientID: "c", Issuer: "https://sso.example.com/realms/x"}
		c.Social.Providers = []restauth.SocialProvider{restauth.GitHubProvider("id", "secret"), custom, restauth.GoogleProvider("", "")}
	})
	assert.Equal(t, []restauth.SocialProviderInfo{
		{ID: "github", Name: "GitHub", DisplayName: "GitHub", Configured: true, ClientID: "id"},
		{ID: "corp", Name: "corp", DisplayName: "corp", Configured: true, ClientID: "c", Issuer: "https://sso.example.com/realms/x", TokenLogin: true},
		{ID: "google", Name: "Google", DisplayName: "Google", Configured: false, Issuer: "https://accounts.google.com", TokenLogin: true},
	}, e.svc.SocialProviders())
}
