package restauth_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// socialMFAUID is the GitHub account id the fake provider answers with; the tests link it
// to a local user directly in the store, so the flow always takes the "known account" path.
const socialMFAUID = "4242"

// socialMFAEnv is an SSO server with MFA on, the GitHub-shaped fake provider and an audit
// recorder.
type socialMFAEnv struct {
	*ssoEnv
	p   *oauthProvider
	rec *auditRecorder
}

func newSocialMFAEnv(t *testing.T, configure ...func(*restauth.Config)) *socialMFAEnv {
	t.Helper()
	p := newOAuthProvider(t)
	// The provider's address matches no local user, and registration is closed: only the
	// linked account can log anybody in.
	p.user = map[string]any{"id": 4242, "login": "gh-handle", "email": "gh-handle@provider.example"}
	p.emails = []map[string]any{}
	rec := &auditRecorder{}
	e := newSSOEnv(t, append([]func(*restauth.Config){withMFA, withAudit(rec), func(c *restauth.Config) {
		c.Social.Providers = []restauth.SocialProvider{p.githubAt()}
	}}, configure...)...)
	// ssoEnv's clock is the server's; testEnv's own (which enrol reads to compute codes)
	// would otherwise be a different one.
	e.testEnv.clock = e.clock
	return &socialMFAEnv{ssoEnv: e, p: p, rec: rec}
}

// link links the provider account to userID, as an earlier connect flow would have.
func (s *socialMFAEnv) link(t *testing.T, userID int64) {
	t.Helper()
	now := s.clock.Now()
	require.NoError(t, s.store.CreateSocialAccount(t.Context(), &restauth.SocialAccount{
		UserID: userID, Provider: "github", UID: socialMFAUID, DateJoined: now, LastLogin: now}))
}

// socialLogin runs the whole login flow in a fresh browser and returns the browser and
// the page where the flow ended.
func (s *socialMFAEnv) socialLogin() (*ssoBrowser, *url.URL) {
	b := s.ssoBrowser(s.p.srv.URL)
	return b, b.follow("/api/auth/social/github/login/")
}

// loginSucceeded returns the AuditLoginSucceeded events since the last take.
func (s *socialMFAEnv) loginSucceeded() []restauth.AuditEvent {
	var out []restauth.AuditEvent
	for _, ev := range s.rec.take() {
		if ev.Kind == restauth.AuditLoginSucceeded {
			out = append(out, ev)
		}
	}
	return out
}

// assertSocialRefused runs the flow and checks it ends on the error page with
// mfa_required, leaving userID without a session, a new token, a recorded login or a
// login_succeeded event.
func (s *socialMFAEnv) assertSocialRefused(t *testing.T, userID int64) {
	t.Helper()
	before, err := s.store.UserByID(t.Context(), userID)
	require.NoError(t, err)
	tokens := tokenCount(t, s.testEnv, userID)
	s.rec.take()
	s.clock.Advance(time.Minute) // so a recorded login would show in LastLogin

	b, end := s.socialLogin()
	s.assertFailed(t, end, "mfa_required")
	assert.Nil(t, b.cookie("/api/", "sessionid"), "no session cookie is set")
	assert.Equal(t, "", b.whoami(), "the browser is not logged in")
	res, body := b.send(http.MethodGet, "/api/auth/user/", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, string(body))
	res, body = b.send(http.MethodGet, "/api/user/token/", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "no token through the session: %s", body)

	assert.Equal(t, tokens, tokenCount(t, s.testEnv, userID), "no token was issued")
	after, err := s.store.UserByID(t.Context(), userID)
	require.NoError(t, err)
	assert.Equal(t, before.LastLogin, after.LastLogin, "the refused login is not recorded")
	acct, err := s.store.SocialAccountByUID(t.Context(), "github", socialMFAUID)
	require.NoError(t, err)
	assert.True(t, acct.LastLogin.Before(s.clock.Now()), "nor on the social account")
	assert.Empty(t, s.loginSucceeded())
}

// assertSocialLogsIn runs the flow and checks it logs username in with a session that
// yields a working token.
func (s *socialMFAEnv) assertSocialLogsIn(t *testing.T, username string) {
	t.Helper()
	s.rec.take()
	b, end := s.socialLogin()
	s.assertLanded(t, end, "/platform/logged-in/")
	assert.Equal(t, username, b.whoami())
	res := s.do(http.MethodGet, "/api/auth/user/", nil, withToken(b.token()))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, username, res.JSON(t)["username"])
	events := s.loginSucceeded()
	require.Len(t, events, 1)
	assert.Equal(t, username, events[0].Username)
	assert.Equal(t, "method=social provider=github", events[0].Detail)
}

func TestSocialLoginMFA(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		required bool // Config.MFA.Required
		totp     bool // the linked user has active TOTP
		refused  bool
	}{
		{name: "MFA enabled, user without TOTP logs in", refused: false},
		{name: "user with active TOTP is refused", totp: true, refused: true},
		{name: "MFA required refuses every social login", required: true, refused: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSocialMFAEnv(t, func(c *restauth.Config) { c.MFA.Required = tc.required })
			var u *restauth.User
			if tc.totp {
				s.enrol(t, "ulla")
				var err error
				u, err = s.store.UserByUsername(t.Context(), "ulla")
				require.NoError(t, err)
			} else {
				u, _ = s.register("ulla", goodPassword, "ulla@example.com")
			}
			s.link(t, u.ID)
			if tc.refused {
				s.assertSocialRefused(t, u.ID)
			} else {
				s.assertSocialLogsIn(t, "ulla")
			}
		})
	}
}

// TestSocialLoginAfterTOTPDeactivated: the refusal lasts as long as TOTP is active, and no
// longer.
func TestSocialLoginAfterTOTPDeactivated(t *testing.T) {
	t.Parallel()
	s := newSocialMFAEnv(t)
	key, _, _ := s.enrol(t, "vera")
	u, err := s.store.UserByUsername(t.Context(), "vera")
	require.NoError(t, err)
	s.link(t, u.ID)

	s.assertSocialRefused(t, u.ID)

	res := s.do(http.MethodDelete, totpPath, map[string]any{"password": goodPassword}, withToken(key))
	require.Equal(t, http.StatusNoContent, res.Code, res.Body.String())
	assert.Equal(t, false, s.do(http.MethodGet, totpPath, nil, withToken(key)).JSON(t)["active"], "TOTP is off")

	s.assertSocialLogsIn(t, "vera")
}

// Linking by verified e-mail must not link a provider account to a TOTP user whose login
// is then refused: a refused login records nothing.
func TestSocialLinkByEmailRefusedForMFAUser(t *testing.T) {
	t.Parallel()
	s := newSocialMFAEnv(t, func(c *restauth.Config) { c.Social.LinkByVerifiedEmail = true })
	s.enrol(t, "wilma")
	u, err := s.store.UserByUsername(t.Context(), "wilma")
	require.NoError(t, err)
	s.verify(t, s.addresses(t, u.ID)[0].ID)
	s.p.user = map[string]any{"id": 4242, "login": "wilma-gh", "email": "wilma@example.com"}
	s.p.emails = []map[string]any{{"email": "wilma@example.com", "primary": true, "verified": true}}

	_, end := s.socialLogin()
	s.assertFailed(t, end, "mfa_required")
	_, err = s.store.SocialAccountByUID(t.Context(), "github", socialMFAUID)
	require.ErrorIs(t, err, restauth.ErrNotFound, "nothing was linked")
	linked, err := s.store.SocialAccounts(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Empty(t, linked)
}
