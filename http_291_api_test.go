package restauth_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// apiEnv is newEnv with the whole /api/ tree mounted through APIHandler and /auth/
// through AuthRequestHandler, as the README's embedding snippet mounts them.
func apiEnv(t *testing.T, configure ...func(*restauth.Config)) *testEnv {
	t.Helper()
	e := newEnv(t, configure...)
	e.mux = http.NewServeMux()
	e.mux.Handle("/api/", e.svc.APIHandler())
	e.mux.Handle("/auth/{$}", e.svc.AuthRequestHandler())
	return e
}

func TestAPIHandlerServerInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure func(*restauth.Config)
		server    string
		instance  string
		email     bool
	}{
		{"defaults", func(*restauth.Config) {}, "InvenTree", "testserver", true},
		{"host's names", func(c *restauth.Config) { c.ServerName, c.SiteName = "restauth", "Parts" }, "restauth", "Parts", true},
		{"log mailer only", func(c *restauth.Config) { c.Mail = restauth.MailConfig{} }, "InvenTree", "testserver", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := apiEnv(t, tt.configure)
			res := e.do(http.MethodGet, "/api/", nil)
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
			assert.Equal(t, []string{"application/json"}, res.Header().Values("Content-Type"), "exactly, for the Python client")
			info := res.JSON(t)
			assert.Equal(t, tt.server, info["server"])
			assert.Equal(t, float64(291), info["apiVersion"])
			assert.Equal(t, restauth.Version, info["version"])
			assert.Equal(t, tt.instance, info["instance"])
			assert.Equal(t, tt.email, info["email_configured"])
			assert.Equal(t, []any{}, info["active_plugins"])
			assert.Nil(t, info["database"], "staff-only fields are null")
		})
	}
}

func TestAPIHandlerRoutesAndNotFound(t *testing.T) {
	t.Parallel()
	e := apiEnv(t)
	_, key := e.register("ada", goodPassword, "")

	// The auth and user routers are reached through the one handler.
	login := e.do(http.MethodPost, "/api/auth/login/", map[string]string{"username": "ada", "password": goodPassword})
	require.Equal(t, http.StatusOK, login.Code, login.Body.String())
	me := e.do(http.MethodGet, "/api/user/me/", nil, withToken(key))
	require.Equal(t, http.StatusOK, me.Code, me.Body.String())
	assert.Equal(t, "ada", me.JSON(t)["username"])

	notFound := []struct{ method, path string }{
		{http.MethodGet, "/api/part/"},
		{http.MethodPost, "/api/part/"},
		{http.MethodPut, "/api/part/1/"},
		{http.MethodPatch, "/api/part/1/"},
		{http.MethodDelete, "/api/part/1/"},
		{http.MethodOptions, "/api/part/"},
		{http.MethodGet, "/api/auth"},           // no trailing slash: no redirect either
		{http.MethodGet, "/api/auth/nothing/"},  // the auth router's own 404
		{http.MethodGet, "/api/user/nothing/"},  // the user router's
		{http.MethodGet, "/api/email/nothing/"}, // the root's
	}
	for _, tt := range notFound {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := newRequest(tt.method, tt.path, nil)
			rec := httptest.NewRecorder()
			e.mux.ServeHTTP(rec, req)
			openAPI(t).Check(t, req, rec.Result())
			require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
			assert.Equal(t, []string{"application/json"}, rec.Header().Values("Content-Type"))
			assert.JSONEq(t, `{"detail": "API endpoint not found", "url": "http://testserver`+tt.path+`"}`, rec.Body.String())
		})
	}

	// DRF authenticates before it finds no route: a bad token is 401 even here, and on
	// the server information.
	for _, path := range []string{"/api/part/", "/api/"} {
		res := e.do(http.MethodGet, path, nil, withToken("inv-not-a-real-key"))
		assert.Equal(t, http.StatusUnauthorized, res.Code, path)
		assert.Equal(t, "Invalid token.", res.JSON(t)["detail"], path)
	}
	// A known route with another method: 405 with Allow; OPTIONS: the view's metadata.
	res := e.do(http.MethodPost, "/api/", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
	assert.Equal(t, "GET, HEAD, OPTIONS", res.Header().Get("Allow"))
	res = e.do(http.MethodOptions, "/api/", nil)
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, "Info", res.JSON(t)["name"])
	// A token is accepted on the server information too.
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/", nil, withToken(key)).Code)
}

// The MFA gate leaves the server information open: the web UI reads it before the user
// can enrol.
func TestAPIHandlerServerInfoBeforeMFAEnrolment(t *testing.T) {
	t.Parallel()
	e := apiEnv(t, func(c *restauth.Config) { c.MFA = restauth.MFAConfig{Enabled: true, Required: true} })
	_, key := e.register("ada", goodPassword, "")
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/", nil, withToken(key)).Code)
	assert.Equal(t, http.StatusForbidden, e.do(http.MethodGet, "/api/user/me/", nil, withToken(key)).Code)
}

func TestAuthRequestHandler(t *testing.T) {
	t.Parallel()
	failing := &failingStore{Store: memstore.New(), fail: map[string]bool{}}
	e := apiEnv(t, func(c *restauth.Config) { c.Store = failing })
	_, key := e.register("ada", goodPassword, "")

	check := func(t *testing.T, method string, opts ...reqOpt) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, newRequest(method, "/auth/", nil, opts...))
		assert.Empty(t, rec.Body.String(), "never a body")
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		return rec
	}
	tests := []struct {
		name   string
		method string
		opts   []reqOpt
		want   int
	}{
		{"anonymous", http.MethodGet, nil, http.StatusForbidden},
		{"token", http.MethodGet, []reqOpt{withToken(key)}, http.StatusOK},
		{"token, any method", http.MethodPost, []reqOpt{withToken(key)}, http.StatusOK},
		{"token header in capitals", http.MethodGet, []reqOpt{withHeader("AUTHORIZATION", "TOKEN "+key)}, http.StatusOK},
		{"unknown token", http.MethodGet, []reqOpt{withToken("inv-not-a-real-key")}, http.StatusForbidden},
		{"basic", http.MethodGet, []reqOpt{withBasic("ada", goodPassword)}, http.StatusOK},
		{"wrong password", http.MethodGet, []reqOpt{withBasic("ada", "wrong-password-1")}, http.StatusForbidden},
		{"malformed header", http.MethodGet, []reqOpt{withHeader("Authorization", "Token a b")}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, check(t, tt.method, tt.opts...).Code)
		})
	}

	t.Run("session", func(t *testing.T) {
		b := e.browser()
		status, body := b.do(http.MethodPost, "/api/auth/login/", map[string]string{"username": "ada", "password": goodPassword})
		require.Equal(t, http.StatusOK, status, string(body))
		get := func(method string, csrf bool) int {
			req, err := http.NewRequest(method, b.srv.URL+"/auth/", nil)
			require.NoError(t, err)
			if csrf {
				req.Header.Set("X-CSRFToken", b.cookie("csrftoken"))
			}
			res, err := b.client.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			assert.Empty(t, raw)
			return res.StatusCode
		}
		assert.Equal(t, http.StatusOK, get(http.MethodGet, false))
		assert.Equal(t, http.StatusForbidden, get(http.MethodPost, false), "an unsafe method needs the CSRF header, as on the API")
		assert.Equal(t, http.StatusOK, get(http.MethodPost, true))
		assert.Equal(t, http.StatusForbidden, b.share().do0(t, "/auth/"), "another browser has no session")
	})

	// An outage is no "logged out": 503, and the error goes to the log only.
	failing.failOn("TokenByHash")
	assert.Equal(t, http.StatusServiceUnavailable, check(t, http.MethodGet, withToken(key)).Code)
}

// do0 sends a bare GET and returns its status, for routes that answer no JSON.
func (b *browser) do0(t *testing.T, path string) int {
	t.Helper()
	res, err := b.client.Get(b.srv.URL + path)
	require.NoError(t, err)
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// TestAuthRequestHandlerRefusesBasicUnderMFA: Basic is no second factor, here as on the
// API, unless the host allows it.
func TestAuthRequestHandlerRefusesBasicUnderMFA(t *testing.T) {
	t.Parallel()
	e := apiEnv(t, func(c *restauth.Config) {
		c.MFA = restauth.MFAConfig{Enabled: true, Required: true}
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
	e.register("ada", goodPassword, "")
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, newRequest(http.MethodGet, "/auth/", nil, withBasic("ada", goodPassword)))
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Empty(t, rec.Body.String())
}
