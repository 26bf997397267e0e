package restauth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// ssoEnv is a testEnv whose SiteURL is a real loopback server, so that a provider can
// redirect a browser back to it, with SSO on and a clock that starts at the real time
// (ID tokens are issued with real timestamps).
type ssoEnv struct {
	*testEnv
	srv   *httptest.Server
	site  *url.URL
	clock *fakeClock
}

func newSSOEnv(t *testing.T, configure ...func(*restauth.Config)) *ssoEnv {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	e := newEnv(t, append([]func(*restauth.Config){func(c *restauth.Config) {
		c.SiteURL = srv.URL
		c.Now = clock.Now
		c.Social.Enabled = true
	}}, configure...)...)
	h = e.mux
	site, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return &ssoEnv{testEnv: e, srv: srv, site: site, clock: clock}
}

// ssoBrowser is a browser with a cookie jar that does not follow redirects by itself:
// tests follow them by hand, so every hop can be inspected or tampered with. Answers of
// restauth's own routes are checked against the OpenAPI document.
type ssoBrowser struct {
	t      *testing.T
	e      *ssoEnv
	client *http.Client
	// providers are the hosts the browser may visit besides the site.
	providers map[string]bool
}

func (e *ssoEnv) ssoBrowser(providerURLs ...string) *ssoBrowser {
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	b := &ssoBrowser{t: e.t, e: e, providers: map[string]bool{},
		client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, p := range providerURLs {
		u, err := url.Parse(p)
		require.NoError(e.t, err)
		b.providers[u.Host] = true
	}
	return b
}

func (b *ssoBrowser) onSite(u *url.URL) bool {
	return u.Scheme == b.e.site.Scheme && u.Host == b.e.site.Host
}

// send sends one request (a path is taken relative to the site) and returns the answer
// with its body read.
func (b *ssoBrowser) send(method, target string, body any) (*http.Response, []byte) {
	b.t.Helper()
	u, err := b.e.site.Parse(target)
	require.NoError(b.t, err)
	req := newRequest(method, "/", body)
	req.URL, req.Host, req.RequestURI = u, u.Host, ""
	if b.onSite(u) && method != http.MethodGet {
		for _, c := range b.client.Jar.Cookies(u) {
			if c.Name == "csrftoken" {
				req.Header.Set("X-CSRFToken", c.Value)
			}
		}
	}
	res, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	if b.onSite(u) && strings.HasPrefix(u.Path, "/api/") {
		res.Body = io.NopCloser(bytes.NewReader(raw))
		openAPI(b.t).Check(b.t, req, res)
	}
	res.Body = io.NopCloser(bytes.NewReader(raw))
	return res, raw
}

// hop GETs target, which must answer 302, and returns where it points.
func (b *ssoBrowser) hop(target string) *url.URL {
	b.t.Helper()
	res, body := b.send(http.MethodGet, target, nil)
	require.Equal(b.t, http.StatusFound, res.StatusCode, "GET %s: %s", target, body)
	loc, err := res.Request.URL.Parse(res.Header.Get("Location"))
	require.NoError(b.t, err)
	return loc
}

// follow follows redirects from target while they stay on restauth's routes or a
// provider, and returns the first URL elsewhere: the page where the flow ends (never
// visited, so an off-site target is never contacted).
func (b *ssoBrowser) follow(target string) *url.URL {
	b.t.Helper()
	u, err := b.e.site.Parse(target)
	require.NoError(b.t, err)
	for range 10 {
		if !(b.onSite(u) && strings.HasPrefix(u.Path, "/api/")) && !b.providers[u.Host] {
			return u
		}
		u = b.hop(u.String())
	}
	b.t.Fatalf("redirect loop at %s", u)
	return nil
}

// login logs in by password, as the web frontend does, opening a session.
func (b *ssoBrowser) login(username, password string) {
	b.t.Helper()
	res, body := b.send(http.MethodPost, "/api/auth/login/", map[string]any{"username": username, "password": password})
	require.Equal(b.t, http.StatusOK, res.StatusCode, string(body))
}

// whoami is the session's username, or "" when the session is anonymous.
func (b *ssoBrowser) whoami() string {
	b.t.Helper()
	res, body := b.send(http.MethodGet, "/api/user/me/", nil)
	if res.StatusCode == http.StatusUnauthorized {
		return ""
	}
	require.Equal(b.t, http.StatusOK, res.StatusCode, string(body))
	var me struct{ Username string }
	require.NoError(b.t, json.Unmarshal(body, &me))
	return me.Username
}

// token fetches an API token through the session, like the frontend's restore flow.
func (b *ssoBrowser) token() string {
	b.t.Helper()
	res, body := b.send(http.MethodGet, "/api/user/token/", nil)
	require.Equal(b.t, http.StatusOK, res.StatusCode, string(body))
	var tok struct{ Token string }
	require.NoError(b.t, json.Unmarshal(body, &tok))
	return tok.Token
}

// cookie returns a cookie the browser would send to path on the site.
func (b *ssoBrowser) cookie(path, name string) *http.Cookie {
	u, _ := b.e.site.Parse(path)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// flowCookies are the browser's social-flow cookies.
func (b *ssoBrowser) flowCookies() []*http.Cookie {
	u, _ := b.e.site.Parse("/api/auth/social/x/callback/")
	var out []*http.Cookie
	for _, c := range b.client.Jar.Cookies(u) {
		if strings.HasPrefix(c.Name, "restauth_sso_") {
			out = append(out, c)
		}
	}
	return out
}

// assertLanded checks that a flow ended on the site page path.
func (e *ssoEnv) assertLanded(t *testing.T, u *url.URL, path string) {
	t.Helper()
	assert.Equal(t, e.site.Host, u.Host, "the flow must end on the site: %s", u)
	assert.Equal(t, path, u.Path, "where the flow ended: %s", u)
	assert.Empty(t, u.Query().Get("sso_error"), "the flow failed: %s", u)
}

// assertFailed checks that a flow ended on the site's error page with reason.
func (e *ssoEnv) assertFailed(t *testing.T, u *url.URL, reason string) {
	t.Helper()
	assert.Equal(t, e.site.Scheme+"://"+e.site.Host+"/platform/login", u.Scheme+"://"+u.Host+u.Path, "error page: %s", u)
	assert.Equal(t, reason, u.Query().Get("sso_error"), "reason: %s", u)
}

// oauthProvider is a plain OAuth2 provider on httptest shaped like GitHub: authorize,
// token (checking the client, the redirect URI and the PKCE verifier, each code once),
// user-info and e-mail list.
type oauthProvider struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	codes map[string]oauthGrant
	// user is what user-info answers; emails what the e-mail list answers.
	user   map[string]any
	emails []map[string]any
	// failUserInfo makes user-info answer 500.
	failUserInfo bool
}

type oauthGrant struct {
	challenge, redirectURI string
	used                   bool
}

const (
	oauthClientID     = "restauth-client"
	oauthClientSecret = "restauth-secret"
	oauthAccessToken  = "gho_access"
)

func newOAuthProvider(t *testing.T) *oauthProvider {
	p := &oauthProvider{t: t, codes: map[string]oauthGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", p.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", p.token)
	mux.HandleFunc("GET /user", p.bearer(func() any {
		if p.failUserInfo {
			return nil
		}
		return p.user
	}))
	mux.HandleFunc("GET /user/emails", p.bearer(func() any { return p.emails }))
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *oauthProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	if q.Get("client_id") != oauthClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := fmt.Sprintf("code-%d", len(p.codes)+1)
	p.codes[code] = oauthGrant{challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
	back, _ := url.Parse(q.Get("redirect_uri"))
	v := back.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *oauthProvider) token(w http.ResponseWriter, r *http.Request) {
	require.NoError(p.t, r.ParseForm())
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	grant, known := p.codes[r.PostForm.Get("code")]
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case id != oauthClientID || secret != oauthClientSecret:
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
	case !known || grant.used || grant.redirectURI != r.PostForm.Get("redirect_uri") ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != grant.challenge:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
	default:
		grant.used = true
		p.codes[r.PostForm.Get("code")] = grant
		_, _ = io.WriteString(w, `{"access_token":"`+oauthAccessToken+`","token_type":"bearer","scope":"read:user,user:email"}`)
	}
}

func (p *oauthProvider) bearer(answer func() any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+oauthAccessToken {
			http.Error(w, "unauthorised", http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		v := answer()
		p.mu.Unlock()
		if v == nil {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

// githubAt is the GitHub preset pointed at the test provider.
func (p *oauthProvider) githubAt() restauth.SocialProvider {
	gh := restauth.GitHubProvider(oauthClientID, oauthClientSecret)
	gh.AuthURL = p.srv.URL + "/login/oauth/authorize"
	gh.TokenURL = p.srv.URL + "/login/oauth/access_token"
	gh.UserInfoURL = p.srv.URL + "/user"
	gh.EmailsURL = p.srv.URL + "/user/emails"
	return gh
}

func TestSocialConfigValidation(t *testing.T) {
	t.Parallel()
	oidc := restauth.SocialProvider{ID: "corp", ClientID: "c", Issuer: "https://sso.example.com/realms/x"}
	oauth := restauth.SocialProvider{ID: "plain", ClientID: "c", AuthURL: "https://p.example/a", TokenURL: "https://p.example/t", UserInfoURL: "https://p.example/u"}
	with := func(p restauth.SocialProvider, f func(*restauth.SocialProvider)) restauth.SocialProvider {
		f(&p)
		return p
	}
	bad := map[string]func(*restauth.Config){
		"empty id": func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{with(oidc, func(p *restauth.SocialProvider) { p.ID = "" })}
		},
		"id not a segment": func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{with(oidc, func(p *restauth.SocialProvider) { p.ID = "a/b" })}
		},
		"upper-case id": func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{with(oidc, func(p *restauth.SocialProvider) { p.ID = "Corp" })}
		},
		"duplicate id": func(c *restauth.Config) { c.Social.Providers = []restauth.SocialProvider{oidc, oidc} },
		"issuer and auth url": func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{with(oidc, func(p *restauth.SocialProvider) { p.AuthURL = oauth.AuthURL })}
		},
		"relative issuer": func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{with(oidc, func(p *restauth.SocialProvider) { p.Issuer = "/realms/x" })}
		},
		"oauth2 without user-info": func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{with(oauth, func(p *restauth.SocialProvider) { p.UserInfoURL = "" })}
		},
		"reserved auth param": func(c *restauth.Config) {
			c.Social.Providers = []restauth.SocialProvider{with(oauth, func(p *restauth.SocialProvider) {
				p.AuthParams = map[string]string{"redirect_uri": "https://evil.example/"}
			})}
		},
		"login redirect off-site":     func(c *restauth.Config) { c.Social.LoginRedirect = "https://evil.example/done" },
		"login redirect scheme-rel":   func(c *restauth.Config) { c.Social.LoginRedirect = "//evil.example/done" },
		"login redirect javascript":   func(c *restauth.Config) { c.Social.LoginRedirect = "javascript:alert(1)" },
		"error redirect other scheme": func(c *restauth.Config) { c.Social.ErrorRedirect = "https://testserver/login?e={reason}" },
		"connect redirect relative":   func(c *restauth.Config) { c.Social.ConnectRedirect = "settings" },
	}
	for name, configure := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := restauth.Config{Store: memstore.New(), Secret: testSecret, SiteURL: "http://testserver"}
			configure(&cfg)
			_, err := restauth.New(cfg)
			assert.ErrorIs(t, err, restauth.ErrConfig)
		})
	}
	t.Run("valid without network", func(t *testing.T) {
		t.Parallel()
		// The issuer does not exist: New must not try to reach it.
		unreachable := with(oidc, func(p *restauth.SocialProvider) { p.Issuer = "http://127.0.0.1:1/nowhere" })
		_, err := restauth.New(restauth.Config{Store: memstore.New(), Secret: testSecret, SiteURL: "http://testserver",
			Social: restauth.SocialConfig{
				Providers: []restauth.SocialProvider{unreachable, oauth,
					restauth.GitHubProvider("a", "b"), restauth.GitLabProvider("", "a", "b"), restauth.GoogleProvider("a", "b"),
					restauth.MicrosoftProvider("", "a", "b"), restauth.KeycloakProvider("https://kc.example", "main", "a", "b")},
				LoginRedirect:   "http://testserver/platform/logged-in/",
				ErrorRedirect:   "/platform/login#sso",
				ConnectRedirect: "/platform/settings/account"}})
		assert.NoError(t, err)
	})
}

func TestSocialProvidersList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) {
		c.Social.Enabled = true
		c.Social.Providers = []restauth.SocialProvider{
			restauth.KeycloakProvider("https://kc.example", "main", "client", "secret"),
			{ID: "pending", DisplayName: "Not yet", Issuer: "https://idp.example"},
		}
		c.Social.Providers[0].DisplayName = "Company SSO"
	})
	res := e.do(http.MethodGet, "/api/auth/providers/?limit=1", nil)
	require.Equal(t, http.StatusOK, res.Code)
	body := res.JSON(t)
	assert.Equal(t, true, body["sso_enabled"])
	assert.Equal(t, []any{
		map[string]any{"id": "keycloak", "name": "Keycloak", "display_name": "Company SSO", "configured": true,
			"login":   "http://testserver/api/auth/social/keycloak/login/",
			"connect": "http://testserver/api/auth/social/keycloak/connect/"},
		map[string]any{"id": "pending", "name": "pending", "display_name": "Not yet", "configured": false,
			"login":   "http://testserver/api/auth/social/pending/login/",
			"connect": "http://testserver/api/auth/social/pending/connect/"},
	}, body["providers"])

	for _, path := range []string{"/api/auth/social/pending/login/", "/api/auth/social/nope/login/", "/api/auth/social/nope/callback/?state=x&code=y"} {
		res := e.do(http.MethodGet, path, nil)
		assert.Equal(t, http.StatusNotFound, res.Code, path)
		assert.Equal(t, map[string]any{"detail": "Not found."}, res.JSON(t), path)
	}
	res = e.do(http.MethodPost, "/api/auth/social/keycloak/login/", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
}

func TestSocialLoginStartsFlow(t *testing.T) {
	t.Parallel()
	p := newOAuthProvider(t)
	e := newEnv(t, func(c *restauth.Config) {
		c.Social.Enabled = true
		gh := p.githubAt()
		gh.AuthParams = map[string]string{"allow_signup": "false"}
		c.Social.Providers = []restauth.SocialProvider{gh}
	})
	res := e.do(http.MethodGet, "/api/auth/social/github/login/", nil)
	require.Equal(t, http.StatusFound, res.Code)
	assert.Empty(t, res.Body.String())
	assert.Equal(t, "no-store", res.Header().Get("Cache-Control"))
	loc, err := url.Parse(res.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, p.srv.URL+"/login/oauth/authorize", loc.Scheme+"://"+loc.Host+loc.Path)
	q := loc.Query()
	assert.Equal(t, oauthClientID, q.Get("client_id"))
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, "http://testserver/api/auth/social/github/callback/", q.Get("redirect_uri"))
	assert.Equal(t, "read:user user:email", q.Get("scope"))
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Len(t, q.Get("code_challenge"), 43)
	assert.Len(t, q.Get("state"), 43)
	assert.Empty(t, q.Get("nonce"), "no nonce for plain OAuth2")
	assert.Equal(t, "false", q.Get("allow_signup"))

	cookies := res.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.True(t, strings.HasPrefix(c.Name, "restauth_sso_"))
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/api/auth/social/", c.Path)
	assert.Equal(t, 600, c.MaxAge)
	assert.NotContains(t, c.Value, q.Get("state"), "the flow cookie is encrypted")

	// A second flow (another tab) gets a cookie of its own.
	res2 := e.do(http.MethodGet, "/api/auth/social/github/login/", nil)
	require.Len(t, res2.Result().Cookies(), 1)
	assert.NotEqual(t, c.Name, res2.Result().Cookies()[0].Name)
}

func TestSocialDisabledAndErrorRedirect(t *testing.T) {
	t.Parallel()
	p := newOAuthProvider(t)
	e := newEnv(t, func(c *restauth.Config) {
		c.Social.Providers = []restauth.SocialProvider{p.githubAt()}
		c.Social.ErrorRedirect = "/sso/failed#top"
	})
	res := e.do(http.MethodGet, "/api/auth/social/github/login/", nil)
	require.Equal(t, http.StatusFound, res.Code)
	assert.Equal(t, "http://testserver/sso/failed?sso_error=sso_disabled#top", res.Header().Get("Location"))
	assert.Empty(t, res.Result().Cookies())

	// connect is a browser flow too: without a session it redirects, it does not 401.
	e2 := newEnv(t, func(c *restauth.Config) {
		c.Social.Enabled = true
		c.Social.Providers = []restauth.SocialProvider{p.githubAt()}
		c.Social.ErrorRedirect = "http://testserver/oops/{reason}/"
	})
	_, key := e2.register("tokenuser", goodPassword, "")
	for _, opts := range [][]reqOpt{nil, {withToken(key)}} {
		res = e2.do(http.MethodGet, "/api/auth/social/github/connect/", nil, opts...)
		require.Equal(t, http.StatusFound, res.Code)
		assert.Equal(t, "http://testserver/oops/login_required/", res.Header().Get("Location"))
	}
	// A bad credential is still 401, as on every route.
	res = e2.do(http.MethodGet, "/api/auth/social/github/login/", nil, withToken("nope"))
	assert.Equal(t, http.StatusUnauthorized, res.Code)
}

func TestSocialAccountsListAndDisconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	withPassword, key := e.register("pam", goodPassword, "")
	joined := time.Date(2024, 11, 1, 8, 0, 0, 0, time.UTC)
	accounts := make([]restauth.SocialAccount, 3)
	for i, prov := range []string{"github", "google"} {
		accounts[i] = restauth.SocialAccount{UserID: withPassword.ID, Provider: prov, UID: fmt.Sprint(40 + i),
			DateJoined: joined, LastLogin: e.clock.Now()}
		require.NoError(t, e.store.CreateSocialAccount(ctx, &accounts[i]))
	}
	// A user created by social login: no usable password, one social account.
	noPassword := &restauth.User{Username: "sso-only", IsActive: true, DateJoined: joined}
	require.NoError(t, e.store.CreateUser(ctx, noPassword, nil))
	accounts[2] = restauth.SocialAccount{UserID: noPassword.ID, Provider: "github", UID: "99", DateJoined: joined, LastLogin: joined}
	require.NoError(t, e.store.CreateSocialAccount(ctx, &accounts[2]))
	ssoKey, err := e.svc.IssueToken(ctx, noPassword, "")
	require.NoError(t, err)

	res := e.do(http.MethodGet, "/api/auth/social/", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Code)

	res = e.do(http.MethodGet, "/api/auth/social/", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, []map[string]any{
		{"id": float64(accounts[0].ID), "provider": "github", "uid": "40", "last_login": "2024-11-30T15:30:00.000Z", "date_joined": "2024-11-01T08:00:00.000Z"},
		{"id": float64(accounts[1].ID), "provider": "google", "uid": "41", "last_login": "2024-11-30T15:30:00.000Z", "date_joined": "2024-11-01T08:00:00.000Z"},
	}, res.List(t))
	res = e.do(http.MethodGet, "/api/auth/social/?limit=1&offset=1", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	page := res.JSON(t)
	assert.Equal(t, float64(2), page["count"])
	assert.Equal(t, "http://testserver/api/auth/social/?limit=1", page["previous"])
	assert.Len(t, page["results"], 1)

	// Someone else's account and an unknown id are both 404.
	for _, id := range []int64{accounts[2].ID, 999} {
		res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", id), nil, withToken(key))
		assert.Equal(t, http.StatusNotFound, res.Code)
		assert.Equal(t, map[string]any{"detail": "Not found."}, res.JSON(t))
	}

	// A user with a password may remove every social account; the body is ignored.
	for _, a := range accounts[:2] {
		res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", a.ID), `garbage`, withToken(key), withHeader("Content-Type", "text/plain"))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, "{}", res.Body.String())
	}
	res = e.do(http.MethodGet, "/api/auth/social/", nil, withToken(key))
	assert.Equal(t, "[]", res.Body.String())

	// The guard: no usable password and no other social account.
	res = e.do(http.MethodPost, fmt.Sprintf("/api/auth/social/%d/disconnect/", accounts[2].ID), nil, withToken(ssoKey.Key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{
		"You cannot disconnect your last social account while your account has no password. Set a password first, or connect another social account.",
	}}, res.JSON(t))
	err = e.svc.DisconnectSocialAccount(ctx, noPassword, accounts[2].ID)
	assert.ErrorIs(t, err, restauth.ErrLastLoginMethod)
	_, err = e.store.SocialAccountByUID(ctx, "github", "99")
	assert.NoError(t, err, "the refused account is still there")
}

func TestSocialOAuth2Provider(t *testing.T) {
	t.Parallel()
	p := newOAuthProvider(t)
	p.user = map[string]any{"id": json.Number("12345678901234567"), "login": "Octo Cat!", "email": nil, "name": "Octo Cat"}
	p.emails = []map[string]any{
		{"email": "other@example.com", "primary": false, "verified": true},
		{"email": "octo@example.com", "primary": true, "verified": true},
	}
	e := newSSOEnv(t, func(c *restauth.Config) {
		c.Social.Registration = true
		c.Social.Providers = []restauth.SocialProvider{p.githubAt()}
	})

	b := e.ssoBrowser(p.srv.URL)
	end := b.follow("/api/auth/social/github/login/")
	e.assertLanded(t, end, "/platform/logged-in/")
	assert.Empty(t, b.flowCookies(), "the callback deletes the flow cookie")
	assert.Equal(t, "octocat", b.whoami())

	u, err := e.store.UserByUsername(t.Context(), "octocat")
	require.NoError(t, err)
	assert.False(t, u.HasUsablePassword())
	// Django's unusable password ("!" and random text), not "": an empty hash made the
	// session auth hash of every user without a password the same.
	assert.True(t, strings.HasPrefix(u.PasswordHash, "!") && len(u.PasswordHash) > 20, u.PasswordHash)
	assert.Equal(t, "octo@example.com", u.Email)
	assert.Equal(t, "Octo", u.FirstName)
	assert.Equal(t, "Cat", u.LastName)
	addrs, err := e.store.EmailAddresses(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	assert.True(t, addrs[0].Verified && addrs[0].Primary)
	acct, err := e.store.SocialAccountByUID(t.Context(), "github", "12345678901234567")
	require.NoError(t, err, "the numeric id keeps every digit")
	assert.Equal(t, u.ID, acct.UserID)
	assert.Contains(t, string(acct.ExtraData), `"login":"Octo Cat!"`)

	t.Run("user-info failure", func(t *testing.T) {
		p.mu.Lock()
		p.failUserInfo = true
		p.mu.Unlock()
		defer func() { p.mu.Lock(); p.failUserInfo = false; p.mu.Unlock() }()
		e.assertFailed(t, e.ssoBrowser(p.srv.URL).follow("/api/auth/social/github/login/"), "profile_failed")
	})
	t.Run("code exchange refused", func(t *testing.T) {
		b := e.ssoBrowser(p.srv.URL)
		toProvider := b.hop("/api/auth/social/github/login/")
		back := b.hop(toProvider.String())
		q := back.Query()
		q.Set("code", "code-that-was-never-issued")
		back.RawQuery = q.Encode()
		e.assertFailed(t, b.follow(back.String()), "exchange_failed")
	})
	t.Run("e-mail list unavailable", func(t *testing.T) {
		p.mu.Lock()
		p.user = map[string]any{"id": 8, "login": "quiet", "email": "quiet@example.com"}
		p.emails = nil // answers 500, as for a token without the user:email scope
		p.mu.Unlock()
		end := e.ssoBrowser(p.srv.URL).follow("/api/auth/social/github/login/")
		e.assertLanded(t, end, "/platform/logged-in/")
		u, err := e.store.UserByUsername(t.Context(), "quiet")
		require.NoError(t, err)
		addrs, err := e.store.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, addrs, 1)
		assert.False(t, addrs[0].Verified, "GitHub's public address is not asserted verified")
	})
	t.Run("inactive user", func(t *testing.T) {
		inactive := false
		_, err := e.store.UpdateUser(t.Context(), u.ID, restauth.UserUpdate{IsActive: &inactive})
		require.NoError(t, err)
		p.mu.Lock()
		p.user = map[string]any{"id": json.Number("12345678901234567"), "login": "Octo Cat!"}
		p.mu.Unlock()
		b := e.ssoBrowser(p.srv.URL)
		e.assertFailed(t, b.follow("/api/auth/social/github/login/"), "inactive")
		assert.Equal(t, "", b.whoami())
	})
	t.Run("unverified e-mail is not marked verified", func(t *testing.T) {
		p.mu.Lock()
		p.user = map[string]any{"id": 7, "login": "newbie", "email": "newbie@example.com"}
		p.emails = []map[string]any{{"email": "newbie@example.com", "primary": true, "verified": false}}
		p.mu.Unlock()
		end := e.ssoBrowser(p.srv.URL).follow("/api/auth/social/github/login/")
		e.assertLanded(t, end, "/platform/logged-in/")
		u, err := e.store.UserByUsername(t.Context(), "newbie")
		require.NoError(t, err)
		addrs, err := e.store.EmailAddresses(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, addrs, 1)
		assert.False(t, addrs[0].Verified)
		assert.NotEmpty(t, e.mailer.Messages(), "a confirmation mail goes to the unverified address")
	})
}

// Configure single sign-on with a Keycloak realm (any OpenID Connect provider works the
// same way with a SocialProvider{ID, ClientID, ClientSecret, Issuer}). New does not
// contact the provider; discovery happens on the first login.
func ExampleKeycloakProvider() {
	kc := restauth.KeycloakProvider("https://sso.example.com", "staff", "inventree", "client-secret")
	kc.DisplayName = "Staff login"
	svc, err := restauth.New(restauth.Config{
		Store:   memstore.New(),
		Secret:  []byte("an-example-secret-of-at-least-32-bytes"),
		SiteURL: "https://inventree.example.com",
		Social: restauth.SocialConfig{
			Enabled:      true,
			Registration: true, // create users for unknown accounts
			Providers:    []restauth.SocialProvider{kc, restauth.GitHubProvider("gh-client-id", "gh-secret")},
		},
	})
	if err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/auth/providers/", nil))
	var out struct {
		Providers []struct{ ID, DisplayName, Login string }
	}
	_ = json.Unmarshal(bytes.ReplaceAll(rec.Body.Bytes(), []byte("display_name"), []byte("DisplayName")), &out)
	for _, p := range out.Providers {
		fmt.Println(p.ID, "|", p.DisplayName, "|", p.Login)
	}
	// Register this redirect URI with Keycloak:
	fmt.Println("https://inventree.example.com/api/auth/social/keycloak/callback/")
	// Output:
	// keycloak | Staff login | https://inventree.example.com/api/auth/social/keycloak/login/
	// github | GitHub | https://inventree.example.com/api/auth/social/github/login/
	// https://inventree.example.com/api/auth/social/keycloak/callback/
}
