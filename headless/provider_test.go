package headless_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
)

// startMockOIDC runs a real OpenID Connect provider on loopback.
func startMockOIDC(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	require.NoError(t, err)
	// The key id is computed on first use and cached without a lock: compute it now, so
	// that parallel subtests signing tokens with this provider only read it.
	m.Keypair.Kid, err = m.Keypair.KeyID()
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, m.Start(ln, nil))
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// socialFixture is a fixture with the mock provider configured as "mock".
func socialFixture(t *testing.T, m *mockoidc.MockOIDC, mutate func(*restauth.Config)) *fixture {
	return newFixture(t, func(c *restauth.Config) {
		c.Social.Enabled = true
		c.Social.Registration = true
		c.Social.Providers = []restauth.SocialProvider{{ID: "mock", Name: "Mock", ClientID: m.ClientID, ClientSecret: m.ClientSecret, Issuer: m.Issuer()}}
		if mutate != nil {
			mutate(c)
		}
	}, headless.Options{})
}

// hop sends one request with c's cookies without following redirects, and returns the
// answer's Location (resolved) or fails when the answer is no redirect. Requests to the
// site (example.test) go to the test server: the provider sends the browser back there.
func (c *client) hop(t *testing.T, method, target string, form url.Values) *url.URL {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	if u.Host == "example.test" {
		srv, _ := url.Parse(c.f.srv.URL)
		u.Scheme, u.Host = srv.Scheme, srv.Host
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u.String(), body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hc := &http.Client{Jar: c.http.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, res.StatusCode, "%s %s: %s", method, u, raw)
	if strings.HasPrefix(u.Path, "/_allauth/") {
		checkSpec(t, req, res, raw)
	}
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

// postForm posts an HTML form and decodes the JSON answer.
func (c *client) postForm(t *testing.T, path string, form url.Values) result {
	t.Helper()
	res, err := c.http.Post(c.base+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var r result
	require.NoError(t, json.Unmarshal(raw, &r), "%s", raw)
	r.code = res.StatusCode
	return r
}

// csrf is the browser's csrftoken cookie, fetched first when it has none.
func (c *client) csrf(t *testing.T) string {
	c.do(http.MethodGet, "auth/session", nil)
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "csrftoken" {
			return ck.Value
		}
	}
	t.Fatal("no csrftoken cookie")
	return ""
}

// providerRedirect posts the form and follows the flow to where it ends on the site.
func (c *client) providerRedirect(t *testing.T, process string) *url.URL {
	t.Helper()
	return c.providerRedirect2(t, url.Values{"provider": {"mock"}, "process": {process}, "callback_url": {"/account/provider/callback"}, "csrfmiddlewaretoken": {c.csrf(t)}})
}

// providerRedirect2 posts form and follows the flow to where it ends on the site.
func (c *client) providerRedirect2(t *testing.T, form url.Values) *url.URL {
	t.Helper()
	toProvider := c.hop(t, http.MethodPost, c.base+"auth/provider/redirect", form)
	assert.Equal(t, "http://example.test/_allauth/browser/v1/auth/provider/callback/mock", toProvider.Query().Get("redirect_uri"), "the dialect's own callback")
	back := c.hop(t, http.MethodGet, toProvider.String(), nil)
	require.Equal(t, "/_allauth/browser/v1/auth/provider/callback/mock", back.Path)
	return c.hop(t, http.MethodGet, back.String(), nil)
}

func TestProviderRedirectLoginAndConnect(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	f := socialFixture(t, m, nil)

	// Login: a new user, created from the provider's verified address.
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-ada", PreferredUsername: "ada", Email: "ada@example.test", EmailVerified: true})
	c := f.browser(t, "/_allauth/browser/v1/")
	cfg := c.do(http.MethodGet, "config", nil)
	assert.Contains(t, string(cfg.Data), `"socialaccount":{"providers":[{"id":"mock","name":"Mock","flows":["provider_redirect","provider_token"],"client_id":"`+m.ClientID+`"`)
	fl := c.do(http.MethodGet, "auth/session", nil).flows(t)
	assert.Equal(t, []any{"mock"}, fl["provider_redirect"]["providers"])
	end := c.providerRedirect(t, "login")
	assert.Equal(t, "http://example.test/account/provider/callback", end.String())
	r := c.do(http.MethodGet, "auth/session", nil)
	require.Equal(t, 200, r.code)
	assert.Contains(t, string(r.Data), `"username":"ada"`)
	assert.Contains(t, string(r.Data), `"method":"socialaccount"`)
	assert.Contains(t, string(r.Data), `"uid":"sub-ada"`)

	// Connect: a password user links a second provider account from their session.
	reg, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: "bob", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
	require.NoError(t, err)
	b := f.browser(t, "/_allauth/browser/v1/")
	b.do(http.MethodGet, "auth/session", nil)
	require.Equal(t, 200, b.do(http.MethodPost, "auth/login", map[string]string{"username": "bob", "password": "analytical-engine-1843"}).code)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-bob", PreferredUsername: "bobby", Email: "bob@provider.test", EmailVerified: true})
	end = b.providerRedirect(t, "connect")
	assert.Equal(t, "http://example.test/account/provider/callback", end.String())
	accounts, err := f.svc.SocialAccounts(context.Background(), reg.User.ID)
	require.NoError(t, err)
	require.Len(t, accounts, 1)
	assert.Equal(t, "sub-bob", accounts[0].UID)
	r = b.do(http.MethodGet, "auth/session", nil)
	assert.Contains(t, string(r.Data), `"username":"bob"`, "a connect leaves the session's user logged in")

	// Connecting the account again from another user is refused, back at callback_url.
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-bob", PreferredUsername: "bobby", Email: "bob@provider.test", EmailVerified: true})
	end = c.providerRedirect(t, "connect")
	assert.Equal(t, "unknown", end.Query().Get("error"))
	assert.Equal(t, "connect", end.Query().Get("error_process"))
	assert.Equal(t, "/account/provider/callback", end.Path)
}

func TestProviderRedirectErrors(t *testing.T) {
	t.Parallel()
	m := startMockOIDC(t)
	f := socialFixture(t, m, func(c *restauth.Config) { c.Social.Registration = false })
	c := f.browser(t, "/_allauth/browser/v1/")

	// Signup closed: the flow ends at callback_url with allauth's error code.
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", Email: "eve@example.test"})
	end := c.providerRedirect(t, "login")
	assert.Equal(t, "/account/provider/callback", end.Path)
	assert.Equal(t, "unknown", end.Query().Get("error"))
	assert.Equal(t, "login", end.Query().Get("error_process"))
	assert.Equal(t, 401, c.do(http.MethodGet, "auth/session", nil).code)

	// The user declines at the provider: "cancelled".
	form := url.Values{"provider": {"mock"}, "process": {"login"}, "callback_url": {"/account/provider/callback"}, "csrfmiddlewaretoken": {c.csrf(t)}}
	toProvider := c.hop(t, http.MethodPost, c.base+"auth/provider/redirect", form)
	back := url.URL{Scheme: "http", Host: "example.test", Path: "/_allauth/browser/v1/auth/provider/callback/mock",
		RawQuery: url.Values{"state": {toProvider.Query().Get("state")}, "error": {"access_denied"}}.Encode()}
	end = c.hop(t, http.MethodGet, back.String(), nil)
	assert.Equal(t, "cancelled", end.Query().Get("error"))

	// A callback without its flow (another browser, a forged state) cannot know
	// callback_url: Config.Social.ErrorRedirect.
	end = f.browser(t, "/_allauth/browser/v1/").hop(t, http.MethodGet, back.String(), nil)
	assert.Equal(t, "/platform/login", end.Path)
	assert.Equal(t, "state_mismatch", end.Query().Get("sso_error"))

	// Bad forms are 400s; an off-site callback_url is never redirected to.
	form.Set("process", "steal")
	r := c.postForm(t, "auth/provider/redirect", form)
	assert.Equal(t, 400, r.code)
	assert.Equal(t, "process", r.Errors[0].Param)
	form.Set("process", "login")
	form.Set("provider", "nope")
	assert.Equal(t, 400, c.postForm(t, "auth/provider/redirect", form).code)
	form.Del("csrfmiddlewaretoken")
	form.Set("provider", "mock")
	assert.Equal(t, 403, c.postForm(t, "auth/provider/redirect", form).code, "the form's CSRF token is required")
	form.Set("csrfmiddlewaretoken", c.csrf(t))
	form.Set("callback_url", "https://evil.test/steal")
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", Email: "eve@example.test"})
	end = c.providerRedirect2(t, form)
	assert.Equal(t, "example.test", end.Host, "an off-site callback_url falls back to the site's")
}
