package headless_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
)

// idToken is an ID token of the mock provider for sub, with claims changed by mutate.
func idToken(t *testing.T, m *mockoidc.MockOIDC, f *fixture, sub string, mutate func(jwt.MapClaims)) string {
	t.Helper()
	now := f.clock()
	claims := jwt.MapClaims{
		"iss": m.Issuer(), "aud": m.ClientID, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"email": sub + "@example.test", "email_verified": true, "preferred_username": sub,
	}
	if mutate != nil {
		mutate(claims)
	}
	signed, err := m.Keypair.SignJWT(claims)
	require.NoError(t, err)
	return signed
}

func tokenBody(clientID, id string) map[string]any {
	return map[string]any{"provider": "mock", "process": "login", "token": map[string]string{"client_id": clientID, "id_token": id}}
}

func TestProviderToken(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) {
				c.Social.Enabled, c.Social.Registration = true, true
				c.Social.Providers = []restauth.SocialProvider{{ID: "mock", Name: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}}
			}, tc.opts)
			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)

			refused := []struct {
				name string
				body map[string]any
			}{
				{"wrong audience", tokenBody(m.ClientID, idToken(t, m, f, "ada", func(cl jwt.MapClaims) { cl["aud"] = "another-app" }))},
				{"expired", tokenBody(m.ClientID, idToken(t, m, f, "ada", func(cl jwt.MapClaims) { cl["exp"] = f.clock().Add(-time.Minute).Unix() }))},
				{"another issuer", tokenBody(m.ClientID, idToken(t, m, f, "ada", func(cl jwt.MapClaims) { cl["iss"] = "https://evil.test" }))},
				{"not a token", tokenBody(m.ClientID, "eyJhbGciOiJI.x.y")},
			}
			for _, rc := range refused {
				r := c.do(http.MethodPost, "auth/provider/token", rc.body)
				require.Equal(t, 400, r.code, rc.name)
				assert.Equal(t, "invalid", r.Errors[0].Code, rc.name)
				assert.Equal(t, "token", r.Errors[0].Param, rc.name)
			}
			r := c.do(http.MethodPost, "auth/provider/token", tokenBody("another-client", idToken(t, m, f, "ada", nil)))
			assert.Equal(t, 400, r.code, "a client id the provider is not configured with")
			r = c.do(http.MethodPost, "auth/provider/token", map[string]any{"provider": "mock", "process": "login"})
			assert.Equal(t, 400, r.code)
			assert.Equal(t, 401, c.do(http.MethodGet, "auth/session", nil).code, "nothing refused logs in")

			r = c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "ada", nil)))
			require.Equal(t, 200, r.code)
			assert.Contains(t, string(r.Data), `"username":"ada"`)
			assert.Contains(t, string(r.Data), `"method":"socialaccount"`)
			assert.Equal(t, 200, c.do(http.MethodGet, "auth/session", nil).code)
			assert.Equal(t, 409, c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "ada", nil))).code, "already logged in")

			// Connect a second provider account to the session's user.
			body := tokenBody(m.ClientID, idToken(t, m, f, "ada-2", nil))
			body["process"] = "connect"
			require.Equal(t, 200, c.do(http.MethodPost, "auth/provider/token", body).code)
			accounts, err := f.svc.SocialAccounts(context.Background(), 1) // ada, the first user
			require.NoError(t, err)
			require.Len(t, accounts, 2)
			assert.Equal(t, "ada-2", accounts[1].UID)
			anon := tc.client(f, t)
			anon.do(http.MethodGet, "auth/session", nil)
			assert.Equal(t, 401, anon.do(http.MethodPost, "auth/provider/token", body).code, "connect needs a logged-in session")
		})
	}
}

// TestProviderTokenRateLimit: provider tokens count towards
// RateLimits.ProviderTokenFailedPerIP before they are checked; one that logs in is given
// back, and over the limit even a good token is refused unchecked (429 with Retry-After)
// until the window moves on.
func TestProviderTokenRateLimit(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	f := newFixture(t, func(c *restauth.Config) {
		c.Social.Enabled, c.Social.Registration = true, true
		c.Social.Providers = []restauth.SocialProvider{{ID: "mock", Name: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}}
		c.RateLimits.ProviderTokenFailedPerIP = restauth.RateRule{Limit: 3, Window: time.Minute}
	}, headless.Options{})
	bad := tokenBody(m.ClientID, "eyJhbGciOiJI.x.y")
	c := f.appClient(t)
	for range 2 {
		require.Equal(t, 400, c.do(http.MethodPost, "auth/provider/token", bad).code)
	}
	require.Equal(t, 200, c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "ada", nil))).code)
	require.Equal(t, 401, c.do(http.MethodDelete, "auth/session", nil).code)
	c = f.appClient(t)
	assert.Equal(t, 400, c.do(http.MethodPost, "auth/provider/token", bad).code, "the login was given back: this is the third counted")
	r := c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "ada", nil)))
	assert.Equal(t, 429, r.code, "over the limit a good token is refused unchecked")
	assert.NotEmpty(t, r.header.Get("Retry-After"))
	f.advance(time.Minute + time.Second)
	assert.Equal(t, 200, c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "ada", nil))).code)
}
