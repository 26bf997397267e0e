package oatest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/internal/oatest"
)

// The project's document, read from disk so that these tests do not depend on the root
// package compiling.
var loadContract = sync.OnceValues(func() (*oatest.Validator, error) {
	doc, err := os.ReadFile("../../openapi.yaml")
	if err != nil {
		return nil, err
	}
	return oatest.New(doc)
})

func contract(t *testing.T) *oatest.Validator {
	t.Helper()
	v, err := loadContract()
	require.NoError(t, err)
	return v
}

// recordingTB is a testing.TB that records Errorf calls instead of failing. Check only
// calls Helper and Errorf; any other method would panic on the nil embedded TB.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// exchange is one request and the answer to check.
type exchange struct {
	name        string
	method      string
	target      string
	status      int
	contentType string
	headers     map[string]string
	body        string
}

func (e exchange) request() *http.Request {
	return httptest.NewRequest(e.method, e.target, strings.NewReader(`{"ignored": true}`))
}

// response builds the answer the way a handler would, through a ResponseRecorder.
func (e exchange) response() *http.Response {
	rec := httptest.NewRecorder()
	if e.contentType != "" {
		rec.Header().Set("Content-Type", e.contentType)
	}
	for k, v := range e.headers {
		rec.Header().Set(k, v)
	}
	rec.WriteHeader(e.status)
	_, _ = rec.WriteString(e.body)
	return rec.Result()
}

const (
	jsonCT   = "application/json"
	tokenKey = "inv-0123456789abcdef0123456789abcdef01234567-20241130"
)

var validExchanges = []exchange{
	{name: "login", method: "POST", target: "/api/auth/login/", status: 200, contentType: jsonCT,
		body: `{"key":"` + tokenKey + `"}`},
	{name: "login field errors", method: "POST", target: "/api/auth/login/", status: 400, contentType: jsonCT,
		body: `{"password":["This field is required."]}`},
	{name: "login non-field errors", method: "POST", target: "/api/auth/login/", status: 400, contentType: jsonCT,
		body: `{"non_field_errors":["Unable to log in with provided credentials."]}`},
	{name: "login JSON parse error", method: "POST", target: "/api/auth/login/", status: 400, contentType: jsonCT,
		body: `{"detail":"JSON parse error - Expecting value: line 1 column 1 (char 0)"}`},
	{name: "login MFA required", method: "POST", target: "/api/auth/login/", status: 403, contentType: jsonCT,
		body: `{"detail":"MFA required for this user"}`},
	{name: "login bad basic header", method: "POST", target: "/api/auth/login/", status: 401, contentType: jsonCT,
		headers: map[string]string{"WWW-Authenticate": `Basic realm="api"`},
		body:    `{"detail":"Invalid username/password."}`},
	{name: "login throttled", method: "POST", target: "/api/auth/login/", status: 429, contentType: jsonCT,
		headers: map[string]string{"Retry-After": "42"},
		body:    `{"detail":"Request was throttled. Expected available in 42 seconds."}`},
	{name: "login body too large", method: "POST", target: "/api/auth/login/", status: 413, contentType: jsonCT,
		body: `{"detail":"Request body too large."}`},
	{name: "login unsupported media type", method: "POST", target: "/api/auth/login/", status: 415, contentType: jsonCT,
		body: `{"detail":"Unsupported media type \"text/plain\" in request."}`},
	{name: "logout", method: "POST", target: "/api/auth/logout/", status: 200, contentType: jsonCT,
		body: `{"detail":"Successfully logged out."}`},
	{name: "logout GET not allowed", method: "GET", target: "/api/auth/logout/", status: 405, contentType: jsonCT,
		headers: map[string]string{"Allow": "POST, OPTIONS"},
		body:    `{"detail":"Method \"GET\" not allowed."}`},
	{name: "user", method: "GET", target: "/api/auth/user/", status: 200, contentType: jsonCT,
		body: `{"pk":1,"username":"alice","email":"","first_name":"","last_name":""}`},
	{name: "user anonymous", method: "GET", target: "/api/auth/user/", status: 401, contentType: jsonCT,
		headers: map[string]string{"WWW-Authenticate": "Token"},
		body:    `{"detail":"Authentication credentials were not provided."}`},
	{name: "user CSRF", method: "PATCH", target: "/api/auth/user/", status: 403, contentType: jsonCT,
		body: `{"detail":"CSRF Failed: CSRF token missing."}`},
	{name: "registration session", method: "POST", target: "/api/auth/registration/", status: 204},
	{name: "registration token", method: "POST", target: "/api/auth/registration/", status: 201, contentType: jsonCT,
		body: `{"key":"` + tokenKey + `"}`},
	{name: "registration mandatory verification", method: "POST", target: "/api/auth/registration/", status: 201,
		contentType: jsonCT, body: `{"detail":"Verification e-mail sent."}`},
	{name: "resend-email", method: "POST", target: "/api/auth/registration/resend-email/", status: 200,
		contentType: jsonCT, body: `{"detail":"ok"}`},
	{name: "providers", method: "GET", target: "/api/auth/providers/?limit=2", status: 200, contentType: jsonCT,
		body: `{"sso_enabled":true,"sso_registration":false,"mfa_required":false,"mfa_enabled":true,` +
			`"providers":[{"id":"github","name":"GitHub","configured":true,` +
			`"login":"http://example.com/api/auth/social/github/login/",` +
			`"connect":"http://example.com/api/auth/social/github/connect/","display_name":"GitHub"}],` +
			`"registration_enabled":false,"password_forgotten_enabled":true}`},
	{name: "emails bare", method: "GET", target: "/api/auth/emails/", status: 200, contentType: jsonCT,
		body: `[{"id":1,"email":"alice@example.com","verified":true,"primary":true,"user":1}]`},
	{name: "emails page", method: "GET", target: "/api/auth/emails/?limit=1&offset=1", status: 200, contentType: jsonCT,
		body: `{"count":3,"next":"http://example.com/api/auth/emails/?limit=1&offset=2",` +
			`"previous":"http://example.com/api/auth/emails/?limit=1",` +
			`"results":[{"id":2,"email":"a2@example.com","verified":false,"primary":false,"user":1}]}`},
	{name: "email create", method: "POST", target: "/api/auth/emails/", status: 201, contentType: jsonCT,
		body: `{"id":3,"email":"new@example.com","verified":false,"primary":false,"user":1}`},
	{name: "email remove", method: "POST", target: "/api/auth/emails/3/remove/", status: 200, contentType: jsonCT,
		body: `{"id":null,"email":"new@example.com","verified":false,"primary":false,"user":1}`},
	{name: "email primary not found", method: "POST", target: "/api/auth/emails/99/primary/", status: 404,
		contentType: jsonCT, body: `{"detail":"Not found."}`},
	{name: "social accounts", method: "GET", target: "/api/auth/social/", status: 200, contentType: jsonCT,
		body: `[{"id":1,"provider":"github","uid":"42","last_login":"2024-11-30T15:30:00.000Z",` +
			`"date_joined":"2024-11-01T08:00:00.000Z"}]`},
	{name: "social disconnect", method: "POST", target: "/api/auth/social/1/disconnect/", status: 200,
		contentType: jsonCT, body: `{}`},
	{name: "social login redirect", method: "GET", target: "/api/auth/social/github/login/", status: 302,
		headers: map[string]string{"Location": "https://github.com/login/oauth/authorize?client_id=x"}},
	{name: "social callback redirect with body", method: "GET",
		target: "/api/auth/social/github/callback/?code=abc&state=xyz", status: 302,
		contentType: "text/html; charset=utf-8", headers: map[string]string{"Location": "/platform/logged-in/"},
		body: `<a href="/platform/logged-in/">Found</a>.`},
	{name: "me", method: "GET", target: "/api/user/me/", status: 200, contentType: jsonCT,
		body: `{"pk":1,"username":"alice","first_name":"Alice","last_name":"A","email":"alice@example.com",` +
			`"groups":[],"is_staff":false,"is_superuser":false,"is_active":true}`},
	{name: "user token", method: "GET", target: "/api/user/token/?name=inventree-python-client", status: 200,
		contentType: jsonCT,
		body:        `{"token":"` + tokenKey + `","name":"inventree-python-client","expiry":"2025-11-30"}`},
	{name: "tokens", method: "GET", target: "/api/user/tokens/", status: 200, contentType: jsonCT,
		body: `[{"id":1,"name":"","token":"inv-0123********************************567-20241130",` +
			`"created":"2024-11-30T15:30:00.000Z","expiry":"2025-11-30","last_seen":null,"revoked":false,` +
			`"active":true,"user":1,"in_use":true}]`},
	{name: "tokens detail is the list", method: "GET", target: "/api/user/tokens/7/?limit=5", status: 200,
		contentType: jsonCT, body: `{"count":0,"next":null,"previous":null,"results":[]}`},
	{name: "token revoke", method: "DELETE", target: "/api/user/tokens/7/", status: 204},
	{name: "token revoke not found", method: "DELETE", target: "/api/user/tokens/8/", status: 404,
		contentType: jsonCT, body: `{"detail":"Not found."}`},
	{name: "unknown path", method: "POST", target: "/api/auth/login", status: 404, contentType: jsonCT,
		body: `{"detail":"API endpoint not found","url":"http://example.com/api/auth/login"}`},
	{name: "server info", method: "GET", target: "/api/", status: 200, contentType: jsonCT,
		body: `{"server":"InvenTree","version":"0.1.0","instance":"example.com","apiVersion":291,"worker_running":true,"worker_count":0,"worker_pending_tasks":0,"plugins_enabled":false,"plugins_install_disabled":true,"active_plugins":[],"email_configured":true,"debug_mode":false,"docker_mode":false,"default_locale":"en","customize":{"logo":null,"splash":null,"login_message":null,"navbar_message":null},"system_health":null,"database":null,"platform":null,"installer":null,"target":null,"django_admin":null}`},
	{name: "server error", method: "GET", target: "/api/user/me/", status: 500, contentType: jsonCT,
		body: `{"error":"ServerError","error_class":"<class 'restauth.ServerError'>",` +
			`"detail":"Error details can be found in the server log","path":"/api/user/me/","status_code":500}`},
	{name: "options server error", method: "OPTIONS", target: "/api/auth/emails/", status: 500, contentType: jsonCT,
		body: `{"error":"ServerError","error_class":"<class 'restauth.ServerError'>",` +
			`"detail":"Error details can be found in the server log","path":"/api/auth/emails/","status_code":500}`},
	{name: "request cancelled", method: "POST", target: "/api/auth/login/", status: 503, contentType: jsonCT,
		body: `{"detail":"Request cancelled."}`},
}

func TestCheckAcceptsCorrectAnswers(t *testing.T) {
	t.Parallel()
	v := contract(t)
	for _, e := range validExchanges {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			v.Check(t, e.request(), e.response())
			assert.Empty(t, v.Problems(e.request(), e.response()))
		})
	}
}

func TestCheckRejectsWrongAnswers(t *testing.T) {
	t.Parallel()
	v := contract(t)
	tests := []struct {
		exchange
		want string // a fragment of the failure message
	}{
		{exchange{name: "login 200 without key", method: "POST", target: "/api/auth/login/", status: 200,
			contentType: jsonCT, body: `{"token":"` + tokenKey + `"}`}, "key"},
		{exchange{name: "login key too short", method: "POST", target: "/api/auth/login/", status: 200,
			contentType: jsonCT, body: `{"key":"abc"}`}, "key"},
		{exchange{name: "providers paginated", method: "GET", target: "/api/auth/providers/", status: 200,
			contentType: jsonCT, body: `{"count":1,"next":null,"previous":null,"results":[{"sso_enabled":false,` +
				`"sso_registration":false,"mfa_required":false,"mfa_enabled":false,"providers":[],` +
				`"registration_enabled":false,"password_forgotten_enabled":true}]}`}, "providers"},
		{exchange{name: "charset parameter", method: "POST", target: "/api/auth/logout/", status: 200,
			contentType: "application/json; charset=utf-8", body: `{"detail":"Successfully logged out."}`},
			"Content-Type must be exactly"},
		{exchange{name: "no content type", method: "POST", target: "/api/auth/logout/", status: 200,
			body: `{"detail":"Successfully logged out."}`}, "Content-Type must be exactly"},
		{exchange{name: "undocumented status", method: "POST", target: "/api/auth/login/", status: 201,
			contentType: jsonCT, body: `{"key":"` + tokenKey + `"}`}, "201"},
		{exchange{name: "500 without InvenTree's shape", method: "GET", target: "/api/user/me/", status: 500,
			contentType: jsonCT, body: `{"detail":"boom"}`}, `property "error" is missing`},
		{exchange{name: "500 with the error's text", method: "POST", target: "/api/auth/login/", status: 500,
			contentType: jsonCT, body: `{"error":"ServerError","error_class":"<class 'restauth.ServerError'>",` +
				`"detail":"db down: SELECT password FROM users","path":"/api/auth/login/","status_code":500}`}, "detail"},
		{exchange{name: "undocumented 5xx", method: "GET", target: "/api/user/me/", status: 502,
			contentType: jsonCT, body: `{"detail":"Bad gateway."}`}, "502"},
		{exchange{name: "resend-email 201 as the reference schema says", method: "POST",
			target: "/api/auth/registration/resend-email/", status: 201, contentType: jsonCT,
			body: `{"detail":"ok"}`}, "201"},
		{exchange{name: "reference datetime format", method: "GET", target: "/api/auth/social/", status: 200,
			contentType: jsonCT, body: `[{"id":1,"provider":"github","uid":"42","last_login":"2024-11-30 15:30",` +
				`"date_joined":"2024-11-01T08:00:00.000Z"}]`}, "last_login"},
		{exchange{name: "datetime without milliseconds", method: "GET", target: "/api/user/tokens/", status: 200,
			contentType: jsonCT, body: `[{"id":1,"name":"","token":"x","created":"2024-11-30T15:30:00Z",` +
				`"expiry":"2025-11-30","last_seen":null,"revoked":false,"active":true,"user":1,"in_use":false}]`},
			"created"},
		{exchange{name: "active as a string", method: "GET", target: "/api/user/tokens/", status: 200,
			contentType: jsonCT, body: `[{"id":1,"name":"","token":"x","created":"2024-11-30T15:30:00.000Z",` +
				`"expiry":"2025-11-30","last_seen":null,"revoked":false,"active":"True","user":1,"in_use":false}]`},
			"active"},
		{exchange{name: "extra field leaks", method: "GET", target: "/api/user/me/", status: 200,
			contentType: jsonCT, body: `{"pk":1,"username":"alice","first_name":"","last_name":"",` +
				`"email":"","groups":[],"is_staff":false,"is_superuser":false,"is_active":true,` +
				`"password":"pbkdf2_sha256$..."}`}, "password"},
		{exchange{name: "error with the wrong shape", method: "POST", target: "/api/auth/password/change/",
			status: 400, contentType: jsonCT, body: `{"error":"bad"}`}, "400"},
		{exchange{name: "field error not a list", method: "POST", target: "/api/auth/registration/",
			status: 400, contentType: jsonCT, body: `{"username":"This field is required."}`}, "400"},
		{exchange{name: "401 without WWW-Authenticate", method: "GET", target: "/api/auth/user/", status: 401,
			contentType: jsonCT, body: `{"detail":"Authentication credentials were not provided."}`},
			"WWW-Authenticate"},
		{exchange{name: "429 without Retry-After", method: "POST", target: "/api/auth/password/reset/",
			status: 429, contentType: jsonCT, body: `{"detail":"Request was throttled."}`}, "Retry-After"},
		{exchange{name: "disconnect answers a body", method: "POST", target: "/api/auth/social/1/disconnect/",
			status: 200, contentType: jsonCT, body: `{"detail":"ok"}`}, "detail"},
		{exchange{name: "204 with a body", method: "DELETE", target: "/api/user/tokens/1/", status: 204,
			contentType: jsonCT, body: `{}`}, "no body"},
		{exchange{name: "redirect without Location", method: "GET", target: "/api/auth/social/github/login/",
			status: 302}, "Location"},
		{exchange{name: "405 without Allow", method: "GET", target: "/api/auth/logout/", status: 405,
			contentType: jsonCT, body: `{"detail":"Method \"GET\" not allowed."}`}, "Allow"},
		{exchange{name: "undocumented method answered 200", method: "GET", target: "/api/auth/logout/",
			status: 200, contentType: jsonCT, body: `{"detail":"Successfully logged out."}`}, "method is not in the document"},
		{exchange{name: "unknown path answered 200", method: "GET", target: "/api/auth/nope/", status: 200,
			contentType: jsonCT, body: `{}`}, "path is not in the document"},
		{exchange{name: "unknown path with a bad 404 body", method: "GET", target: "/api/auth/nope/", status: 404,
			contentType: jsonCT, body: `{"error":"not found"}`}, "error"},
		{exchange{name: "server info with a string apiVersion", method: "GET", target: "/api/", status: 200,
			contentType: jsonCT, body: `{"server":"InvenTree","version":"0.1.0","instance":"example.com","apiVersion":"291","worker_running":true,"worker_count":0,"worker_pending_tasks":0,"plugins_enabled":false,"plugins_install_disabled":true,"active_plugins":[],"email_configured":true,"debug_mode":false,"docker_mode":false,"default_locale":"en","customize":{"logo":null,"splash":null,"login_message":null,"navbar_message":null},"system_health":null,"database":null,"platform":null,"installer":null,"target":null,"django_admin":null}`}, "apiVersion"},
		{exchange{name: "invalid e-mail address", method: "POST", target: "/api/auth/emails/", status: 201,
			contentType: jsonCT, body: `{"id":3,"email":"not-an-address","verified":false,"primary":false,"user":1}`},
			"email"},
		{exchange{name: "relative next URL", method: "GET", target: "/api/auth/emails/?limit=1", status: 200,
			contentType: jsonCT, body: `{"count":2,"next":"/api/auth/emails/?limit=1&offset=1","previous":null,` +
				`"results":[{"id":2,"email":"a2@example.com","verified":false,"primary":false,"user":1}]}`}, "next"},
		{exchange{name: "invalid date", method: "GET", target: "/api/user/token/", status: 200, contentType: jsonCT,
			body: `{"token":"` + tokenKey + `","name":"","expiry":"2025-13-45"}`}, "expiry"},
		{exchange{name: "invalid JSON", method: "GET", target: "/api/auth/user/", status: 200,
			contentType: jsonCT, body: `{"pk":1,`}, "200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recordingTB{}
			req, res := tc.request(), tc.response()
			v.Check(rec, req, res)
			failures := rec.failures()
			require.Len(t, failures, 1, "Check must fail exactly once")
			msg := failures[0]
			t.Log(msg)
			assert.Contains(t, msg, tc.want)
			assert.Contains(t, msg, tc.method+" "+tc.target)
			assert.Contains(t, msg, fmt.Sprintf("→ %d", tc.status))
			if tc.body != "" {
				assert.Contains(t, msg, tc.body)
			}
			assert.NotEmpty(t, v.Problems(tc.request(), tc.response()))
		})
	}
}

func TestCheckLeavesTheBodyReadable(t *testing.T) {
	t.Parallel()
	v := contract(t)
	for _, e := range []exchange{validExchanges[0], {name: "wrong", method: "POST", target: "/api/auth/login/",
		status: 200, contentType: jsonCT, body: `{"nokey":true}`}} {
		res := e.response()
		v.Check(&recordingTB{}, e.request(), res)
		got, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		assert.Equal(t, e.body, string(got))
		require.NoError(t, res.Body.Close())
	}
}

func TestCheckDoesNotReadTheRequestBody(t *testing.T) {
	t.Parallel()
	v := contract(t)
	e := validExchanges[0]
	req := e.request()
	v.Check(t, req, e.response())
	got, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ignored": true}`, string(got))
}

func TestCheckWorksWithARealClient(t *testing.T) {
	t.Parallel()
	v := contract(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		if r.URL.Path == "/api/user/tokens/12/" && r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		_, _ = io.WriteString(w, `{"count":1,"next":null,"previous":null,"results":[`+
			`{"id":4,"email":"alice@example.com","verified":true,"primary":true,"user":1}]}`)
	}))
	t.Cleanup(srv.Close)

	get := func(ct string) *http.Response {
		res, err := srv.Client().Get(srv.URL + "/api/auth/emails/?limit=1&offset=0&ct=" + ct)
		require.NoError(t, err)
		t.Cleanup(func() { _ = res.Body.Close() })
		return res
	}

	// The request is taken from res.Request when none is given.
	v.Check(t, nil, get(jsonCT))

	rec := &recordingTB{}
	v.Check(rec, nil, get("application/json;charset=utf-8"))
	assert.Len(t, rec.failures(), 1)

	req, err := http.NewRequest(http.MethodDelete, srv.URL+"/api/user/tokens/12/", nil)
	require.NoError(t, err)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = res.Body.Close() })
	v.Check(t, req, res)
}

func TestCheckIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	v := contract(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, e := range validExchanges[i%3:] {
				assert.Empty(t, v.Problems(e.request(), e.response()), e.name)
			}
		}()
	}
	wg.Wait()
}

func TestNewRejectsBadDocuments(t *testing.T) {
	t.Parallel()
	const head = "openapi: 3.0.3\ninfo: {title: x, version: '1'}\n"
	const errorSchemas = "components:\n  schemas:\n    ErrorDetail: {type: object}\n    NotFoundError: {type: object}\n"
	for name, tc := range map[string]struct{ doc, want string }{
		"not YAML":    {"{{{", "parse document"},
		"not OpenAPI": {"hello: world\n", "parse document"},
		"wrong type":  {head + "paths:\n  /x/:\n    get:\n      responses: 42\n" + errorSchemas, "parse document"},
		"missing $ref": {head + "paths:\n  /x/:\n    get:\n      responses:\n        '200':\n          description: ok\n" +
			"          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Nope'}\n" +
			errorSchemas, `"Nope" not found`},
		"meta-schema":      {"openapi: 3.0.3\ninfo: {version: '1'}\npaths: {}\n" + errorSchemas, "invalid OpenAPI document"},
		"no ErrorDetail":   {head + "paths: {}\n", "ErrorDetail"},
		"no NotFoundError": {head + "paths: {}\ncomponents:\n  schemas:\n    ErrorDetail: {type: object}\n", "NotFoundError"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, err := oatest.New([]byte(tc.doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Nil(t, v)
		})
	}
	_, err := oatest.New([]byte(head + "paths: {}\n" + errorSchemas))
	require.NoError(t, err, "a minimal valid document loads")
	assert.Panics(t, func() { oatest.MustLoad([]byte("{{{")) })
}

func TestKeysKeepTheDocumentsOrder(t *testing.T) {
	t.Parallel()
	doc := []byte("paths:\n  /x/:\n    post:\n      schema: {$ref: '#/components/schemas/S'}\n" +
		"components:\n  schemas:\n    S:\n      properties: {zeta: {}, alpha: {}, mid: {}}\n")
	keys, err := oatest.Keys(doc, "paths", "/x/", "post", "schema", "properties")
	require.NoError(t, err)
	assert.Equal(t, []string{"zeta", "alpha", "mid"}, keys, "the written order, through the $ref")
	_, err = oatest.Keys(doc, "paths", "/y/")
	assert.ErrorContains(t, err, `no "paths//y/"`)
	_, err = oatest.Keys([]byte("a: {$ref: '#/nope'}\n"), "a")
	assert.ErrorContains(t, err, "does not resolve")
}

func TestLenientFailuresNameUndocumentedAnswers(t *testing.T) {
	t.Parallel()
	v, err := oatest.NewLenient([]byte("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /x:\n    get:\n" +
		"      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n" +
		"              schema: {type: object, required: [a], properties: {a: {type: integer}}}\n"))
	require.NoError(t, err)
	answer := func(method, target string, status int, body string) []oatest.Failure {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(status)
		_, _ = rec.WriteString(body)
		return v.Failures(httptest.NewRequest(method, target, nil), rec.Result())
	}
	assert.Empty(t, answer("GET", "/x", 200, `{"a":1}`))
	assert.Equal(t, []oatest.Failure{{Pointer: "/a", Reason: "value must be an integer"}}, answer("GET", "/x", 200, `{"a":"1"}`))
	assert.Equal(t, []oatest.Failure{{Reason: oatest.UndocumentedStatus}}, answer("GET", "/x", 418, `{}`))
	assert.Equal(t, []oatest.Failure{{Reason: oatest.UndocumentedMethod}}, answer("PUT", "/x", 200, `{}`))
	assert.Equal(t, []oatest.Failure{{Reason: oatest.UndocumentedPath}}, answer("GET", "/y", 200, `{}`))
}
