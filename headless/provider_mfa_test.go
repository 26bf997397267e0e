package headless_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/internal/otptest"
)

// mfaSocialFixture is a fixture with MFA (and trust) on, the mock provider, and ada, who
// has TOTP, linked to the provider account sub-ada. The audit events are recorded.
func mfaSocialFixture(t *testing.T, m *mockoidc.MockOIDC, opts clientCase) (*fixture, *otptest.App, func() []restauth.AuditEvent) {
	t.Helper()
	var mu sync.Mutex
	var events []restauth.AuditEvent
	f := newFixture(t, func(c *restauth.Config) {
		c.MFA.Enabled, c.MFA.TrustEnabled = true, true
		c.Social.Enabled, c.Social.Registration = true, true
		c.Social.Providers = []restauth.SocialProvider{{ID: "mock", Name: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}}
		c.Audit = func(_ context.Context, e restauth.AuditEvent) { mu.Lock(); events = append(events, e); mu.Unlock() }
	}, opts.opts)
	app, _ := activateTOTP(t, f)
	now := f.clock()
	require.NoError(t, f.store.CreateSocialAccount(context.Background(), &restauth.SocialAccount{
		UserID: 1, Provider: "mock", UID: "sub-ada", DateJoined: now, LastLogin: now}))
	return f, app, func() []restauth.AuditEvent {
		mu.Lock()
		defer mu.Unlock()
		return append([]restauth.AuditEvent(nil), events...)
	}
}

// clientCase is one entry of clients.
type clientCase = struct {
	name   string
	opts   headless.Options
	client func(*fixture, *testing.T) *client
}

// sessionMethods are the methods of an authenticated answer's data.
func sessionMethods(t *testing.T, r result) []restauth.AuthRecord {
	t.Helper()
	var d struct {
		Methods []restauth.AuthRecord `json:"methods"`
	}
	require.NoError(t, json.Unmarshal(r.Data, &d))
	return d.Methods
}

// TestProviderLoginOfMFAUserPendsSecondFactor: a user with a second factor who logs in
// through a provider (the redirect flow or a native app's token) is not logged in: the
// session has mfa_authenticate pending, as after a password, and 2fa/authenticate
// completes the login with both records. A trusted browser skips the step.
func TestProviderLoginOfMFAUserPendsSecondFactor(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	for _, tc := range clients {
		for _, via := range []string{"token", "redirect"} {
			if via == "redirect" && tc.name != "browser" {
				continue // the redirect flow is the browser's (providerRedirect follows /_allauth/'s)
			}
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				t.Parallel()
				f, app, events := mfaSocialFixture(t, m, tc)
				c := tc.client(f, t)
				c.do(http.MethodGet, "auth/session", nil)
				providerLogin := func() result {
					if via == "token" {
						return c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "sub-ada", nil)))
					}
					m.QueueUser(&mockoidc.MockUser{Subject: "sub-ada", Email: "ada@provider.test", EmailVerified: true})
					end := c.providerRedirect(t, "login")
					assert.Equal(t, "http://example.test/account/provider/callback", end.String(), "the flow ends at callback_url")
					return c.do(http.MethodGet, "auth/session", nil)
				}

				r := providerLogin()
				require.Equal(t, 401, r.code, "the second factor is due")
				mfa := r.flows(t)["mfa_authenticate"]
				require.NotNil(t, mfa)
				assert.Equal(t, true, mfa["is_pending"])
				assert.Equal(t, []any{"recovery_codes", "totp"}, mfa["types"])
				assert.Equal(t, false, r.Meta["is_authenticated"])
				for _, e := range events() {
					assert.NotEqual(t, restauth.AuditLoginSucceeded, e.Kind, "no login yet")
				}

				f.advance(time.Minute)
				r = c.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": app.Code(f.clock())})
				if !c.app {
					require.Equal(t, 401, r.code)
					require.Contains(t, r.flows(t), "mfa_trust")
					r = c.do(http.MethodPost, "auth/2fa/trust", map[string]bool{"trust": true})
				}
				require.Equal(t, 200, r.code)
				methods := sessionMethods(t, r)
				require.Len(t, methods, 2)
				assert.Equal(t, "socialaccount", methods[0].Method)
				assert.Equal(t, "mock", methods[0].Provider)
				assert.Equal(t, "sub-ada", methods[0].UID)
				assert.Equal(t, "mfa", methods[1].Method)
				assert.Equal(t, "totp", methods[1].Type)
				var details []string
				for _, e := range events() {
					if e.Kind == restauth.AuditLoginSucceeded {
						details = append(details, e.Detail)
					}
				}
				assert.Equal(t, []string{"method=social+totp provider=mock"}, details)

				if c.app {
					return
				}
				// The browser is trusted now: its next provider login skips the step.
				require.Equal(t, 401, c.do(http.MethodDelete, "auth/session", nil).code)
				r = providerLogin()
				require.Equal(t, 200, r.code, "a trusted browser")
				assert.Equal(t, "socialaccount", sessionMethods(t, r)[0].Method)
			})
		}
	}
}

// TestProviderLoginUnderMFARequired: with every user required to have a second factor, a
// linked user with TOTP gets the step, and a new provider account is refused before any
// user is made (it would have no second factor to give).
func TestProviderLoginUnderMFARequired(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	f2 := newFixture(t, func(c *restauth.Config) {
		c.MFA.Enabled, c.MFA.Required = true, true
		c.Social.Enabled, c.Social.Registration = true, true
		c.Social.Providers = []restauth.SocialProvider{{ID: "mock", Name: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}}
	}, headless.Options{})
	activateTOTP(t, f2)
	now := f2.clock()
	require.NoError(t, f2.store.CreateSocialAccount(context.Background(), &restauth.SocialAccount{
		UserID: 1, Provider: "mock", UID: "sub-ada", DateJoined: now, LastLogin: now}))
	c := f2.appClient(t)
	r := c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f2, "sub-ada", nil)))
	require.Equal(t, 401, r.code)
	assert.Contains(t, r.flows(t), "mfa_authenticate")

	other := f2.appClient(t)
	r = other.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f2, "sub-eve", nil)))
	assert.Equal(t, 400, r.code)
	_, err := f2.svc.User(context.Background(), 2)
	assert.ErrorIs(t, err, restauth.ErrNotFound, "no user was made")
}

// TestSecondFactorRecordsTheFirst: the session's records after a second factor start with
// the first factor's own record, and a first factor left pending earlier does not leak
// into a later login's.
func TestSecondFactorRecordsTheFirst(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	f, app, _ := mfaSocialFixture(t, m, clients[1])
	c := f.appClient(t)
	// A provider login pends its second factor, which never comes.
	require.Equal(t, 401, c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "sub-ada", nil))).code)
	// The same session then logs in with the password and a code.
	require.Equal(t, 401, c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"}).code)
	f.advance(time.Minute)
	r := c.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": app.Code(f.clock())})
	require.Equal(t, 200, r.code)
	methods := sessionMethods(t, r)
	require.Len(t, methods, 2)
	assert.Equal(t, "password", methods[0].Method, "the password's record, not the abandoned provider login's")
	assert.Equal(t, "ada", methods[0].Username)
	assert.Equal(t, "mfa", methods[1].Method)
}
