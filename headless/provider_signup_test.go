package headless_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// TestProviderSignupOnEmailConflict: a provider account whose address a password user
// holds is not linked; its signup is pending until another address is given.
func TestProviderSignupOnEmailConflict(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) {
				c.Social.Enabled, c.Social.Registration = true, true
				c.Social.Providers = []restauth.SocialProvider{{ID: "mock", Name: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}}
			}, tc.opts)
			_, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada", Email: "ada@example.test", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
			require.NoError(t, err)
			link := strings.TrimSuffix(f.lastLink(t), "/") // mailed outside a headless flow: the 291 link
			key := link[strings.LastIndex(link, "/")+1:]
			_, err = f.svc.VerifyEmail(context.Background(), key)
			require.NoError(t, err, "ada holds her address verified")
			c := tc.client(f, t)
			assert.Equal(t, 409, c.do(http.MethodGet, "auth/provider/signup", nil).code, "nothing pending")

			r := c.do(http.MethodPost, "auth/provider/token", tokenBody(m.ClientID, idToken(t, m, f, "ada", nil)))
			require.Equal(t, 401, r.code)
			pending := r.flows(t)["provider_signup"]
			require.NotNil(t, pending)
			assert.Equal(t, true, pending["is_pending"])
			assert.Equal(t, "mock", pending["provider"].(map[string]any)["id"])

			r = c.do(http.MethodGet, "auth/provider/signup", nil)
			require.Equal(t, 200, r.code)
			assert.Contains(t, string(r.Data), `"uid":"ada"`)
			assert.Contains(t, string(r.Data), `"email":"ada@example.test"`)

			r = c.do(http.MethodPost, "auth/provider/signup", map[string]string{"email": "ada@example.test", "username": "ada2"})
			require.Equal(t, 400, r.code, "the address is still taken")
			assert.Equal(t, "email_taken", r.Errors[0].Code)
			r = c.do(http.MethodPost, "auth/provider/signup", map[string]string{"email": "ada2@example.test", "username": "ada"})
			require.Equal(t, 400, r.code)
			assert.Equal(t, "username_taken", r.Errors[0].Code)

			r = c.do(http.MethodPost, "auth/provider/signup", map[string]string{"email": "ada2@example.test", "username": "ada2"})
			require.Equal(t, 200, r.code)
			assert.Contains(t, string(r.Data), `"username":"ada2"`)
			assert.Contains(t, string(r.Data), `"method":"socialaccount"`)
			assert.Equal(t, 409, c.do(http.MethodGet, "auth/provider/signup", nil).code, "done")
		})
	}
}

// TestProviderSignupForm: with Config.Social.SignupForm every new provider account asks
// first, here through the browser redirect flow.
func TestProviderSignupForm(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	f := socialFixture(t, m, func(c *restauth.Config) { c.Social.SignupForm = true })
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-grace", PreferredUsername: "grace", Email: "grace@example.test", EmailVerified: true})
	c := f.browser(t, "/_allauth/browser/v1/")
	end := c.providerRedirect(t, "login")
	assert.Empty(t, end.Query().Get("error"))
	r := c.do(http.MethodGet, "auth/session", nil)
	require.Equal(t, 401, r.code)
	require.Contains(t, r.flows(t), "provider_signup")
	r = c.do(http.MethodGet, "auth/provider/signup", nil)
	require.Equal(t, 200, r.code)
	assert.Contains(t, string(r.Data), `"username":"grace"`, "the suggested username")
	r = c.do(http.MethodPost, "auth/provider/signup", map[string]string{"email": "grace@example.test"})
	require.Equal(t, 200, r.code)
	assert.Contains(t, string(r.Data), `"username":"grace"`)
	assert.Contains(t, string(r.Data), `"has_usable_password":false`)
}
