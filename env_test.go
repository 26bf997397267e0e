package restauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/oatest"
	"github.com/restauth/restauth/memstore"
)

var (
	contractOnce sync.Once
	contract     *oatest.Validator
)

// openAPI is the project's contract; every response a handler test receives is checked
// against it.
func openAPI(t testing.TB) *oatest.Validator {
	contractOnce.Do(func() {
		v, err := oatest.New(restauth.OpenAPI())
		if err != nil {
			panic(err)
		}
		contract = v
	})
	return contract
}

// fakeClock is an injectable clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// captureMailer keeps every message it is asked to send.
type captureMailer struct {
	mu   sync.Mutex
	msgs []*restauth.Message
}

func (m *captureMailer) Send(_ context.Context, msg *restauth.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *captureMailer) Messages() []*restauth.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*restauth.Message(nil), m.msgs...)
}

// testEnv is a Service on a memstore with both handlers mounted as a host app would.
type testEnv struct {
	t      *testing.T
	svc    *restauth.Service
	store  *memstore.Store
	clock  *fakeClock
	mailer *captureMailer
	mux    *http.ServeMux
}

// testSecret is fixed so tests are repeatable; never use a constant secret in production.
var testSecret = []byte("test-secret-test-secret-test-secret-0123456789")

// cheapPasswords keeps handler tests fast; the hashers' own tests use real parameters.
var cheapPasswords = restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1}

func newEnv(t *testing.T, configure ...func(*restauth.Config)) *testEnv {
	t.Helper()
	e := &testEnv{
		t:      t,
		store:  memstore.New(),
		clock:  &fakeClock{now: time.Date(2024, 11, 30, 15, 30, 0, 0, time.UTC)},
		mailer: &captureMailer{},
	}
	cfg := restauth.Config{
		Store:     e.store,
		Secret:    testSecret,
		SiteURL:   "http://testserver",
		Passwords: cheapPasswords,
		Now:       e.clock.Now,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Read mail right after the request; the background path has its own test.
		Mail: restauth.MailConfig{Mailer: e.mailer, SendInRequest: true},
		// Many tests log in repeatedly from one address; the limits have their own tests.
		RateLimits: noRateLimits(),
	}
	for _, f := range configure {
		f(&cfg)
	}
	svc, err := restauth.New(cfg)
	require.NoError(t, err)
	e.svc = svc
	e.mux = http.NewServeMux()
	e.mux.Handle("/api/auth/", svc.Handler())
	e.mux.Handle("/api/user/", svc.UserHandler())
	return e
}

// reqOpt adjusts a request before it is sent.
type reqOpt func(*http.Request)

func withToken(key string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Token "+key) }
}

func withBasic(user, pass string) reqOpt {
	return func(r *http.Request) {
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// newRequest builds a request; a body that is a string is sent as is with the given
// Content-Type (set by withHeader), anything else as JSON.
func newRequest(method, path string, body any, opts ...reqOpt) *http.Request {
	var rdr io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rdr = strings.NewReader(b)
	case url.Values:
		rdr = strings.NewReader(b.Encode())
		ct = "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rdr = bytes.NewReader(raw)
		ct = "application/json"
	}
	r := httptest.NewRequest(method, "http://testserver"+path, rdr)
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// response is a recorded answer with its decoded JSON body.
type response struct {
	*httptest.ResponseRecorder
	req *http.Request
}

// JSON decodes the body into a generic value.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body.Bytes(), &m), "body: %s", r.Body.String())
	return m
}

// List decodes a bare JSON array body.
func (r response) List(t testing.TB) []map[string]any {
	t.Helper()
	var l []map[string]any
	require.NoError(t, json.Unmarshal(r.Body.Bytes(), &l), "body: %s", r.Body.String())
	return l
}

// do serves the request and checks the answer against the OpenAPI document.
func (e *testEnv) do(method, path string, body any, opts ...reqOpt) response {
	e.t.Helper()
	req := newRequest(method, path, body, opts...)
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	openAPI(e.t).Check(e.t, req, rec.Result())
	return response{rec, req}
}

// register creates an account through the Service and returns its first token key.
func (e *testEnv) register(username, password, email string) (*restauth.User, string) {
	e.t.Helper()
	res, err := e.svc.Register(context.Background(), restauth.RegisterRequest{
		Username: username, Email: email, Password1: password, Password2: password,
	})
	require.NoError(e.t, err)
	key := ""
	if res.Token != nil {
		key = res.Token.Key
	}
	return res.User, key
}

// browser is an http.Client with a cookie jar against a real test server, for session
// flows; it echoes the csrftoken cookie in X-CSRFToken like InvenTree's web frontend
// unless told not to.
type browser struct {
	t        *testing.T
	srv      *httptest.Server
	client   *http.Client
	sendCSRF bool
}

func (e *testEnv) browser() *browser {
	e.t.Helper()
	srv := httptest.NewServer(e.mux)
	e.t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	return &browser{t: e.t, srv: srv, client: &http.Client{Jar: jar}, sendCSRF: true}
}

// share returns a second browser on the same server with its own cookie jar.
func (b *browser) share() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(b.t, err)
	return &browser{t: b.t, srv: b.srv, client: &http.Client{Jar: jar}, sendCSRF: true}
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// do sends a request and returns the status and the raw body.
func (b *browser) do(method, path string, body any, opts ...reqOpt) (int, []byte) {
	b.t.Helper()
	req := newRequest(method, path, body, opts...)
	u, err := url.Parse(b.srv.URL + path)
	require.NoError(b.t, err)
	req.URL, req.Host, req.RequestURI = u, u.Host, ""
	if b.sendCSRF {
		if v := b.cookie("csrftoken"); v != "" {
			req.Header.Set("X-CSRFToken", v)
		}
	}
	res, err := b.client.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	res.Body = io.NopCloser(bytes.NewReader(raw))
	openAPI(b.t).Check(b.t, req, res)
	return res.StatusCode, raw
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// noRateLimits turns every rate rule off.
func noRateLimits() restauth.RateLimits {
	off := restauth.RateRule{Limit: -1}
	return restauth.RateLimits{LoginFailedPerAccount: off, LoginFailedPerIP: off, ResetPerIP: off,
		ResetPerEmail: off, SignupPerIP: off, PasswordChangePerUser: off, ResendPerEmail: off, MFAFailedPerUser: off,
		BodyPerIP: off, LoginFailedPerAccountDaily: off, MFAFailedPerUserIP: off, MailPerRecipient: off,
		LoginCodePerIP: off, LoginCodePerEmail: off, ReauthenticatePerUser: off, PrimaryEmailPerUser: off}
}
