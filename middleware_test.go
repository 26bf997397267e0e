package restauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

func TestTokenAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("hank", goodPassword, "")
	other, otherKey := e.register("ivy", goodPassword, "")
	inactive := false
	_, err := e.store.UpdateUser(context.Background(), other.ID, restauth.UserUpdate{IsActive: &inactive})
	require.NoError(t, err)

	tests := []struct {
		name   string
		header string
		status int
		detail string
	}{
		{"valid", "Token " + key, 200, ""},
		{"keyword is case-insensitive", "TOKEN " + key, 200, ""},
		{"lower-case keyword", "token " + key, 200, ""},
		{"keyword only", "Token", 401, "Invalid token header. No credentials provided."},
		{"spaces", "Token " + key + " extra", 401, "Invalid token header. Token string should not contain spaces."},
		{"unknown key", "Token inv-0000000000000000000000000000000000000000-20241130", 401, "Invalid token."},
		{"inactive user", "Token " + otherKey, 401, "User inactive or deleted."},
		{"bearer is not a scheme", "Bearer " + key, 401, "Authentication credentials were not provided."},
		{"empty header is anonymous", "", 401, "Authentication credentials were not provided."},
		{"basic", "Basic " + b64("hank:"+goodPassword), 200, ""},
		{"basic case-insensitive username", "Basic " + b64("HANK:"+goodPassword), 200, ""},
		{"basic wrong password", "Basic " + b64("hank:nope"), 401, "Invalid username/password."},
		{"basic inactive", "Basic " + b64("ivy:"+goodPassword), 401, "Invalid username/password."},
		{"basic no credentials", "Basic", 401, "Invalid basic header. No credentials provided."},
		{"basic spaces", "Basic a b", 401, "Invalid basic header. Credentials string should not contain spaces."},
		{"basic no colon", "Basic " + b64("hank"), 401, "Invalid basic header. Credentials not correctly base64 encoded."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodGet, "/api/auth/user/", nil, withHeader("Authorization", tc.header))
			require.Equal(t, tc.status, res.Code, res.Body.String())
			if tc.status == 200 {
				assert.Equal(t, float64(u.ID), res.JSON(t)["pk"])
				return
			}
			assert.Equal(t, map[string]any{"detail": tc.detail}, res.JSON(t))
			assert.NotEmpty(t, res.Header().Get("WWW-Authenticate"))
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestTokenExpiryAndLastSeen(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("jack", goodPassword, "")
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key)).Code)
	tokens, err := e.store.Tokens(context.Background(), u.ID)
	require.NoError(t, err)
	require.Len(t, tokens, 1)
	assert.Equal(t, time.Date(2024, 11, 30, 0, 0, 0, 0, time.UTC), tokens[0].LastSeen.UTC())
	assert.Equal(t, time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC), tokens[0].Expiry.UTC(), "365 days by default")

	e.clock.Advance(365 * 24 * time.Hour) // the expiry day itself is still valid
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key)).Code)
	e.clock.Advance(24 * time.Hour)
	res := e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key))
	assert.Equal(t, http.StatusUnauthorized, res.Code)
	assert.Equal(t, map[string]any{"detail": "Token has expired"}, res.JSON(t))
}

func TestBadCredentialOnPublicRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/api/auth/providers/", "/api/auth/registration/", "/api/auth/nonexistent/", "/api/auth/logout/"} {
		t.Run(path, func(t *testing.T) {
			res := e.do(http.MethodPost, path, map[string]any{}, withToken("inv-bogus"))
			assert.Equal(t, http.StatusUnauthorized, res.Code)
			assert.Equal(t, map[string]any{"detail": "Invalid token."}, res.JSON(t))
			assert.Equal(t, "Token", res.Header().Get("WWW-Authenticate"))
		})
	}
}

func TestRoutingOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("kim", goodPassword, "")
	tests := []struct {
		name, method, path string
		opts               []reqOpt
		status             int
		body               map[string]any
	}{
		{"anonymous DELETE on protected route is 401 not 405", "DELETE", "/api/auth/user/", nil, 401,
			map[string]any{"detail": "Authentication credentials were not provided."}},
		{"authenticated DELETE is 405", "DELETE", "/api/auth/user/", []reqOpt{withToken(key)}, 405,
			map[string]any{"detail": `Method "DELETE" not allowed.`}},
		{"no trailing slash is 404, never a redirect", "POST", "/api/auth/login", nil, 404,
			map[string]any{"detail": "API endpoint not found", "url": "http://testserver/api/auth/login"}},
		{"unknown path", "GET", "/api/auth/unknown/?x=1", nil, 404,
			map[string]any{"detail": "API endpoint not found", "url": "http://testserver/api/auth/unknown/?x=1"}},
		{"sub-path of a route", "GET", "/api/auth/user/extra/", []reqOpt{withToken(key)}, 404,
			map[string]any{"detail": "API endpoint not found", "url": "http://testserver/api/auth/user/extra/"}},
		{"unknown companion path", "GET", "/api/user/nothing/", nil, 404,
			map[string]any{"detail": "API endpoint not found", "url": "http://testserver/api/user/nothing/"}},
		{"providers is public", "GET", "/api/auth/providers/", nil, 200, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, tc.path, nil, tc.opts...)
			require.Equal(t, tc.status, res.Code, res.Body.String())
			assert.Equal(t, "application/json", res.Header().Get("Content-Type"))
			if tc.body != nil {
				assert.Equal(t, tc.body, res.JSON(t))
			}
		})
	}
	t.Run("405 lists the allowed methods", func(t *testing.T) {
		res := e.do(http.MethodPost, "/api/auth/user/", nil, withToken(key))
		assert.Equal(t, "GET, PUT, PATCH, HEAD, OPTIONS", res.Header().Get("Allow"))
	})
}

func TestProviders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.DisablePasswordReset = true; c.MFA.Enabled = true })
	res := e.do(http.MethodGet, "/api/auth/providers/?limit=1", nil)
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, map[string]any{
		"sso_enabled": false, "sso_registration": false, "mfa_required": false, "mfa_enabled": true,
		"providers": []any{}, "registration_enabled": true, "password_forgotten_enabled": false,
	}, res.JSON(t), "one object, never paginated")
}

func TestSessionAndCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("lena", goodPassword, "lena@example.com")
	b := e.browser()

	status, _ := b.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "lena", "password": goodPassword})
	require.Equal(t, http.StatusOK, status)
	require.NotEmpty(t, b.cookie("sessionid"))
	require.Len(t, b.cookie("csrftoken"), 32)

	status, body := b.do(http.MethodGet, "/api/auth/user/", nil)
	require.Equal(t, http.StatusOK, status, string(body))

	b.sendCSRF = false
	status, body = b.do(http.MethodPatch, "/api/auth/user/", map[string]any{"first_name": "L"})
	assert.Equal(t, http.StatusForbidden, status)
	assert.JSONEq(t, `{"detail":"CSRF Failed: CSRF token missing."}`, string(body))

	status, body = b.do(http.MethodPatch, "/api/auth/user/", map[string]any{"first_name": "L"}, withHeader("X-CSRFToken", strings.Repeat("a", 32)))
	assert.Equal(t, http.StatusForbidden, status)
	assert.JSONEq(t, `{"detail":"CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."}`, string(body))

	status, body = b.do(http.MethodPatch, "/api/auth/user/", map[string]any{"first_name": "L"},
		withHeader("X-CSRFToken", b.cookie("csrftoken")), withHeader("Origin", "https://evil.example"), withHeader("Sec-Fetch-Site", "cross-site"))
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, string(body), "CSRF Failed: Origin checking failed")

	b.sendCSRF = true
	status, body = b.do(http.MethodPatch, "/api/auth/user/", map[string]any{"first_name": "L"})
	require.Equal(t, http.StatusOK, status, string(body))
	assert.Equal(t, "L", decode(t, body)["first_name"])

	t.Run("token requests need no CSRF even with a session cookie", func(t *testing.T) {
		_, key := e.register("lena2", goodPassword, "")
		b.sendCSRF = false
		defer func() { b.sendCSRF = true }()
		status, body := b.do(http.MethodPatch, "/api/auth/user/", map[string]any{"last_name": "T"}, withToken(key))
		require.Equal(t, http.StatusOK, status, string(body))
		assert.Equal(t, "lena2", decode(t, body)["username"], "a valid token wins over the session")
	})

	t.Run("login never checks CSRF and ignores the session", func(t *testing.T) {
		b.sendCSRF = false
		defer func() { b.sendCSRF = true }()
		status, _ := b.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "lena", "password": goodPassword})
		assert.Equal(t, http.StatusOK, status)
	})

	t.Run("csrf cookie missing", func(t *testing.T) {
		b2 := b.share()
		status, _ := b2.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "lena", "password": goodPassword})
		require.Equal(t, http.StatusOK, status)
		sid := b2.cookie("sessionid")
		req := httptest.NewRequest(http.MethodPatch, "http://testserver/api/auth/user/", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: sid})
		req.Header.Set("X-CSRFToken", strings.Repeat("a", 32))
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusForbidden, rec.Code)
		assert.JSONEq(t, `{"detail":"CSRF Failed: CSRF cookie not set."}`, rec.Body.String())
	})

	t.Run("logout ends the session", func(t *testing.T) {
		status, _ := b.do(http.MethodPost, "/api/auth/logout/", nil)
		require.Equal(t, http.StatusOK, status)
		status, _ = b.do(http.MethodGet, "/api/auth/user/", nil)
		assert.Equal(t, http.StatusUnauthorized, status)
	})
}

func TestLoginRenewsSessionID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.loggedInBrowser(t, "mona")
	first := b.cookie("sessionid")
	status, _ := b.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "mona", "password": goodPassword})
	require.Equal(t, http.StatusOK, status)
	assert.NotEqual(t, first, b.cookie("sessionid"), "login must renew the session id")
}

func TestMiddlewareForHostRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("nina", goodPassword, "")
	host := e.svc.Middleware(restauth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok := restauth.UserFromContext(r.Context())
		if !ok {
			http.Error(w, "no user", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%d %d", user.ID, restauth.AuthMethodFromContext(r.Context()))
	})))

	serve := func(opts ...reqOpt) *httptest.ResponseRecorder {
		req := newRequest(http.MethodGet, "/app/things", nil, opts...)
		rec := httptest.NewRecorder()
		host.ServeHTTP(rec, req)
		return rec
	}
	rec := serve(withToken(key))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, fmt.Sprintf("%d %d", u.ID, restauth.AuthToken), rec.Body.String())

	rec = serve(withBasic("nina", goodPassword))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, fmt.Sprintf("%d %d", u.ID, restauth.AuthBasic), rec.Body.String())

	rec = serve()
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))

	rec = serve(withToken("inv-nope"))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.JSONEq(t, `{"detail":"Invalid token."}`, rec.Body.String())
}

func TestOptionsAndHead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("olga", goodPassword, "")
	res := e.do(http.MethodOptions, "/api/auth/login/", nil)
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, "Login", res.JSON(t)["name"])
	req := newRequest(http.MethodHead, "/api/auth/user/", nil, withToken(key))
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
}

func decode(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	return m
}

// The CSRF refusals carry Django 4.2's reasons word for word.
func TestCSRFReasons(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.loggedInBrowser(t, "csrf")
	sid := b.cookie("sessionid")
	good := b.cookie("csrftoken")
	require.Len(t, good, 32)
	other := strings.Repeat("b", 32)
	tests := []struct {
		name, cookie, header, reason string
	}{
		{"cookie of the wrong length", "short", good, "CSRF cookie has incorrect length."},
		{"cookie with invalid characters", strings.Repeat("!", 32), good, "CSRF cookie has invalid characters."},
		{"header missing", good, "", "CSRF token missing."},
		{"header of the wrong length", good, "abc", "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."},
		{"header with invalid characters", good, strings.Repeat("-", 32), "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters."},
		{"header not the cookie's", good, other, "CSRF token from the 'X-Csrftoken' HTTP header incorrect."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPatch, "http://testserver/api/auth/user/", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: "sessionid", Value: sid})
			req.AddCookie(&http.Cookie{Name: "csrftoken", Value: tc.cookie})
			if tc.header != "" {
				req.Header.Set("X-CSRFToken", tc.header)
			}
			rec := httptest.NewRecorder()
			e.mux.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusForbidden, rec.Code)
			assert.JSONEq(t, `{"detail":"CSRF Failed: `+tc.reason+`"}`, rec.Body.String())
		})
	}
	t.Run("the right token passes", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPatch, "http://testserver/api/auth/user/", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: sid})
		req.AddCookie(&http.Cookie{Name: "csrftoken", Value: good})
		req.Header.Set("X-CSRFToken", good)
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	})
}

// Basic credentials that are not UTF-8 are read as Latin-1, as DRF does: a client that
// encodes "josé:pässword…" in ISO-8859-1 logs in.
func TestBasicLatin1Credentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const password = "pässword-long-enough"
	_, err := e.svc.Register(context.Background(), restauth.RegisterRequest{Username: "josé", Password1: password, Password2: password})
	require.NoError(t, err)
	latin1 := func(s string) []byte {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r))
		}
		return b
	}
	cred := base64.StdEncoding.EncodeToString(latin1("josé:" + password))
	res := e.do(http.MethodGet, "/api/user/me/", nil, withHeader("Authorization", "Basic "+cred))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, "josé", res.JSON(t)["username"])

	noColon := base64.StdEncoding.EncodeToString([]byte("josé"))
	res = e.do(http.MethodGet, "/api/user/me/", nil, withHeader("Authorization", "Basic "+noColon))
	require.Equal(t, http.StatusUnauthorized, res.Code)
	assert.Equal(t, "Invalid basic header. Credentials not correctly base64 encoded.", res.JSON(t)["detail"])
}

// With mandatory verification, Basic authentication is no way around it: the token route
// and every other one refuse an unverified account.
func TestBasicRequiresVerificationWhenMandatory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *restauth.Config) { cfg.EmailVerification = restauth.VerificationMandatory })
	u, _ := e.register("vic", goodPassword, "vic@example.com")
	for _, path := range []string{"/api/user/token/", "/api/user/me/", "/api/auth/user/"} {
		res := e.do(http.MethodGet, path, nil, withBasic("vic", goodPassword))
		require.Equal(t, http.StatusForbidden, res.Code, path)
		assert.Equal(t, map[string]any{"detail": "E-mail is not verified."}, res.JSON(t), path)
	}
	e.verify(t, e.addresses(t, u.ID)[0].ID)
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/user/token/", nil, withBasic("vic", goodPassword)).Code)
}

// Login CSRF: a cross-site form must not log the victim's browser into the attacker's
// account. Browsers say where a request comes from; API clients send neither header.
func TestLoginAndRegistrationRefuseCrossSiteBrowsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("mallory", goodPassword, "")
	login := url.Values{"username": {"mallory"}, "password": {goodPassword}}
	signup := url.Values{"username": {"victim2"}, "password1": {goodPassword}, "password2": {goodPassword}}
	for _, tc := range []struct {
		name   string
		path   string
		body   url.Values
		header map[string]string
		status int
	}{
		{"cross-site login", "/api/auth/login/", login, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"foreign Origin login", "/api/auth/login/", login, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site registration", "/api/auth/registration/", signup, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-origin login", "/api/auth/login/", login, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}, http.StatusOK},
		{"API client login", "/api/auth/login/", login, nil, http.StatusOK},
	} {
		opts := []reqOpt{}
		for k, v := range tc.header {
			opts = append(opts, withHeader(k, v))
		}
		res := e.do(http.MethodPost, tc.path, tc.body, opts...)
		require.Equal(t, tc.status, res.Code, "%s: %s", tc.name, res.Body.String())
		if tc.status == http.StatusForbidden {
			assert.Contains(t, res.JSON(t)["detail"], "CSRF Failed: Origin checking failed", tc.name)
			assert.Empty(t, res.Header().Get("Set-Cookie"), "%s: no session", tc.name)
		}
	}
}

// loggedInBrowser registers username with goodPassword and logs a new browser in.
func (e *testEnv) loggedInBrowser(t *testing.T, username string) *browser {
	t.Helper()
	e.register(username, goodPassword, "")
	b := e.browser()
	status, body := b.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": username, "password": goodPassword})
	require.Equal(t, http.StatusOK, status, string(body))
	return b
}

// Origins configured in another spelling (capitals, the default port) still match what
// browsers send.
func TestTrustedOriginsInAnySpelling(t *testing.T) {
	t.Parallel()
	for _, configured := range []string{"https://app.example.com", "https://App.Example.com", "https://app.example.com:443"} {
		e := newEnv(t, func(cfg *restauth.Config) { cfg.TrustedOrigins = []string{configured} })
		e.register("spa"+strconv.Itoa(len(configured)), goodPassword, "")
		res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "spa" + strconv.Itoa(len(configured)), "password": goodPassword},
			withHeader("Sec-Fetch-Site", "same-site"), withHeader("Origin", "https://app.example.com"))
		assert.Equal(t, http.StatusOK, res.Code, "%s: %s", configured, res.Body.String())
	}
}
