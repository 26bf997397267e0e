package headless_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
)

// A reauthentication is recorded in the session it was made in. An app request
// authenticated by an access token alone may name a session logged in as nobody (or as
// someone else): that session's records prove nothing about the token's user, or a
// stolen access token and the thief's own fresh reauthentication would together pass
// every "recently authenticated" check of the victim (new recovery codes, TOTP off).
func TestBearerCannotBorrowAnotherSessionsReauthentication(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *restauth.Config) { c.MFA.Enabled = true }, headless.Options{AppJWT: true})
	app, _ := activateTOTP(t, f)
	ctx := context.Background()
	_, err := f.svc.Register(ctx, restauth.RegisterRequest{Username: "eve", Password1: "eve-has-a-long-passphrase", Password2: "eve-has-a-long-passphrase", WithoutToken: true})
	require.NoError(t, err)

	f.advance(time.Minute) // past the activation's TOTP step
	// Ada logs in on her phone; her access token leaks.
	ada := f.appClient(t)
	require.Equal(t, 401, ada.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"}).code)
	r := ada.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": app.Code(f.clock())})
	require.Equal(t, 200, r.code)
	adaAccess, _ := r.Meta["access_token"].(string)
	require.NotEmpty(t, adaAccess)

	// Eve logs in and reauthenticates with her own password by her access token, in a
	// session of no user.
	eve := f.appClient(t)
	r = eve.do(http.MethodPost, "auth/login", map[string]string{"username": "eve", "password": "eve-has-a-long-passphrase"})
	require.Equal(t, 200, r.code)
	eveAccess, _ := r.Meta["access_token"].(string)
	thief := f.appClient(t)
	r = thief.do(http.MethodPost, "auth/reauthenticate", map[string]string{"password": "eve-has-a-long-passphrase"}, "Authorization", "Bearer "+eveAccess)
	require.Equal(t, 200, r.code)
	require.NotEmpty(t, thief.token, "the reauthentication started a session")
	f.advance(time.Second)

	// That session with Ada's token: Ada is not recently authenticated.
	bearer := []string{"Authorization", "Bearer " + adaAccess}
	r = thief.do(http.MethodPost, "account/authenticators/recovery-codes", nil, bearer...)
	assert.Equal(t, 401, r.code, "no new recovery codes of Ada's for Eve")
	assert.NotContains(t, string(r.Data), "unused_codes")
	assert.Equal(t, 401, thief.do(http.MethodGet, "account/authenticators/recovery-codes", nil, bearer...).code)
	assert.Equal(t, 401, thief.do(http.MethodDelete, "account/authenticators/totp", nil, bearer...).code)
	types, err := f.svc.MFATypes(ctx, &restauth.User{ID: 1})
	require.NoError(t, err)
	assert.Contains(t, types, "totp", "Ada's TOTP is still active")
}

// A user whose only authenticator is a key passes the second factor with a recovery code
// in a browser with trust on: trusting the browser works (it answered 500 and lost the
// login, as the trust fingerprint knew TOTP only), and the trusted browser skips the
// second factor next time.
func TestMFATrustOfAKeyOnlyUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *restauth.Config) {
		withWebAuthn(false)(c)
		c.MFA.TrustEnabled = true
	}, headless.Options{})
	registerAdaNoEmail(t, f)
	c := f.browser(t, "/_allauth/browser/v1/")
	c.do(http.MethodGet, "auth/session", nil)
	require.Equal(t, 200, passwordLogin(t, c).code)
	_, _, added := addKey(t, c, "Key", false)
	rc := c.do(http.MethodPost, "account/authenticators/recovery-codes", nil)
	require.Equal(t, 200, rc.code, "%s", rc.Data)
	var list struct {
		UnusedCodes []string `json:"unused_codes"`
	}
	require.NoError(t, jsonUnmarshal(rc.Data, &list))
	require.NotEmpty(t, list.UnusedCodes)
	require.Equal(t, 200, added.code)
	logout(t, c)

	r := passwordLogin(t, c)
	require.Equal(t, 401, r.code)
	require.Contains(t, r.flows(t), "mfa_authenticate")
	r = c.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": list.UnusedCodes[0]})
	require.Equal(t, 401, r.code)
	require.Contains(t, r.flows(t), "mfa_trust")
	r = c.do(http.MethodPost, "auth/2fa/trust", map[string]bool{"trust": true})
	require.Equal(t, 200, r.code, "trusting a key-only user's browser")
	assert.Contains(t, strings.Join(r.header.Values("Set-Cookie"), "\n"), "mfa_trusted=")

	require.Equal(t, 401, c.do(http.MethodDelete, "auth/session", nil).code)
	assert.Equal(t, 200, passwordLogin(t, c).code, "the trusted browser skips the second factor")
}

// The trust cookie skips a second factor: it is Secure whenever the site is https, as the
// session cookie is, also behind a proxy that ends TLS (the request then comes in plain
// http, and the cookie, sent over http, would leak to anyone on the path).
func TestMFATrustCookieSecureOnHTTPSSite(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *restauth.Config) {
		c.SiteURL = "https://example.test"
		c.MFA.Enabled, c.MFA.TrustEnabled = true, true
	}, headless.Options{})
	app, _ := activateTOTP(t, f)
	c := f.browser(t, "/_allauth/browser/v1/")
	c.do(http.MethodGet, "auth/session", nil)
	r := c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"}, "Referer", "https://example.test/", "Origin", "https://example.test")
	require.Equal(t, 401, r.code, "%s %v", r.Data, r.Errors)
	f.advance(time.Minute)
	r = c.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": app.Code(f.clock())}, "Referer", "https://example.test/", "Origin", "https://example.test")
	require.Equal(t, 401, r.code)
	r = c.do(http.MethodPost, "auth/2fa/trust", map[string]bool{"trust": true}, "Referer", "https://example.test/", "Origin", "https://example.test")
	require.Equal(t, 200, r.code)
	var trust *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "mfa_trusted" {
			trust = ck
		}
	}
	require.NotNil(t, trust)
	assert.True(t, trust.Secure, "an https site's trust cookie is Secure")
	assert.True(t, trust.HttpOnly)
}

// Ending a session (auth/sessions from another device, or the session's expiry) ends the
// JWT login issued with it: its refresh token, which a refresh renews for ever, must not
// outlive the session the user sees and ends, as allauth ties the refresh token to its
// session.
func TestEndedSessionEndsItsJWTLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, headless.Options{AppJWT: true})
	registerAda(t, f)
	login := func() (*client, string) {
		c := f.appClient(t)
		r := c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"})
		require.Equal(t, 200, r.code)
		refresh, _ := r.Meta["refresh_token"].(string)
		require.NotEmpty(t, refresh)
		return c, refresh
	}
	phone, refresh := login()
	laptop, _ := login()

	// While the phone's session lives, its refresh token refreshes.
	r := f.appClient(t).do(http.MethodPost, "tokens/refresh", map[string]string{"refresh_token": refresh})
	require.Equal(t, 200, r.code)
	var pair struct {
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, jsonUnmarshal(r.Data, &pair))

	// The laptop ends the phone's session.
	id := currentID(t, phone)
	require.Equal(t, 200, laptop.do(http.MethodDelete, "auth/sessions", map[string]any{"sessions": []int64{id}}).code)
	r = f.appClient(t).do(http.MethodPost, "tokens/refresh", map[string]string{"refresh_token": pair.RefreshToken})
	assert.Equal(t, 400, r.code, "the ended session's refresh token is dead")
}

// config and the flows list the token flow only for the providers the Service takes
// tokens of: a plain OAuth2 provider's access token is refused unless AccessTokenLogin
// (it names no audience), so a client is not told to try it.
func TestProviderTokenFlowListedOnlyWhereTaken(t *testing.T) {
	t.Parallel()
	for _, optIn := range []bool{false, true} {
		f := newFixture(t, func(c *restauth.Config) {
			c.Social.Enabled = true
			gh := restauth.GitHubProvider("gh-client", "gh-secret")
			gh.AccessTokenLogin = optIn
			c.Social.Providers = []restauth.SocialProvider{gh}
		}, headless.Options{})
		c := f.appClient(t)
		cfg := c.do(http.MethodGet, "config", nil)
		fl := c.do(http.MethodGet, "auth/session", nil).flows(t)
		assert.Equal(t, []any{"github"}, fl["provider_redirect"]["providers"])
		if optIn {
			assert.Contains(t, string(cfg.Data), `"flows":["provider_redirect","provider_token"]`)
			assert.Equal(t, []any{"github"}, fl["provider_token"]["providers"])
			continue
		}
		assert.Contains(t, string(cfg.Data), `"flows":["provider_redirect"]`)
		assert.NotContains(t, fl, "provider_token")
		r := c.do(http.MethodPost, "auth/provider/token", map[string]any{"provider": "github", "process": "login",
			"token": map[string]string{"client_id": "gh-client", "access_token": "gho_someone_elses"}})
		assert.Equal(t, 400, r.code)
	}
}
