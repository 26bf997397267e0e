package headless_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/memstore"
)

// fuzzRoutes are the headless routes that decode a JSON body, each with a method.
var fuzzRoutes = []struct{ method, path string }{
	{http.MethodPost, "auth/login"},
	{http.MethodPost, "auth/signup"},
	{http.MethodPost, "auth/reauthenticate"},
	{http.MethodPost, "auth/2fa/authenticate"},
	{http.MethodPost, "auth/2fa/reauthenticate"},
	{http.MethodPost, "auth/2fa/trust"},
	{http.MethodPost, "auth/code/request"},
	{http.MethodPost, "auth/code/confirm"},
	{http.MethodPost, "auth/password/request"},
	{http.MethodPost, "auth/password/reset"},
	{http.MethodPost, "auth/email/verify"},
	{http.MethodPost, "auth/provider/token"},
	{http.MethodPost, "auth/provider/signup"},
	{http.MethodDelete, "auth/sessions"},
	{http.MethodPost, "tokens/refresh"},
	{http.MethodPost, "auth/webauthn/login"},
	{http.MethodPost, "auth/webauthn/authenticate"},
	{http.MethodPost, "auth/webauthn/signup"},
	{http.MethodPut, "auth/webauthn/signup"},
	{http.MethodPost, "account/authenticators/webauthn"},
	{http.MethodPost, "account/authenticators/totp"},
	{http.MethodPost, "account/email"},
	{http.MethodPost, "account/password/change"},
	{http.MethodDelete, "account/providers"},
}

// FuzzHeadlessBodies sends arbitrary bodies to every JSON route of the app client, with
// every feature on: no body may panic the handler or be answered 500 (every 500 is logged,
// and the logger fails the run).
func FuzzHeadlessBodies(f *testing.F) {
	for _, seed := range []string{``, `{}`, `null`, `[]`, `"x"`, `{"username":"ada","password":"p"}`,
		`{"code":"123456"}`, `{"email":"a@b.c"}`, `{"sessions":["1",2,null]}`, `{"token":{"client_id":"x"},"provider":"p","process":"login"}`,
		`{"credential":{"id":"AA","rawId":"AA","type":"public-key","response":{}}}`, `{"trust":true}`,
		`{"refresh_token":"a.b.c"}`, `{"key":"x","password":"y"}`, `{"credential":"x","name":"` + string(make([]byte, 300)) + `"}`} {
		for i := range fuzzRoutes {
			f.Add(uint8(i), []byte(seed))
		}
	}
	h, failed := fuzzHandler(f)
	fuzzBodies(f, h, failed)
}

// fuzzHandler is the headless handler of a Service with every feature on and one user,
// ada, and the channel its logged failures (its 500s) arrive on.
func fuzzHandler(f *testing.F) (http.Handler, chan string) {
	failed := make(chan string, 1)
	logger := slog.New(slog.NewTextHandler(&fuzzLog{failed: failed}, nil))
	cfg := restauth.Config{
		Store:     memstore.New(),
		Secret:    []byte("a-headless-fuzz-secret-of-at-least-32-bytes"),
		SiteURL:   "http://example.test",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
		Mail: restauth.MailConfig{SendInRequest: true, Mailer: restauth.MailerFunc(func(context.Context, *restauth.Message) error {
			return nil
		})},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	cfg.MFA.Enabled, cfg.MFA.TrustEnabled = true, true
	cfg.WebAuthn.Enabled, cfg.WebAuthn.PasskeyLogin, cfg.WebAuthn.PasskeySignup = true, true, true
	cfg.LoginByCode.Enabled, cfg.PasswordResetByCode.Enabled, cfg.EmailVerificationByCode.Enabled = true, true, true
	cfg.Social.Enabled, cfg.Social.Registration = true, true
	svc, err := restauth.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	_, err = svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada", Email: "ada@example.test", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
	if err != nil {
		f.Fatal(err)
	}
	return headless.Handler(svc, headless.Options{AppJWT: true, Logger: logger}), failed
}

// fuzzBodies is FuzzHeadlessBodies' run over h.
func fuzzBodies(f *testing.F, h http.Handler, failed chan string) {
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		// A logged-in session first, so that the account routes decode too.
		token := ""
		if route&0x80 != 0 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/_allauth/app/v1/auth/login",
				bytes.NewReader([]byte(`{"username":"ada","password":"analytical-engine-1843"}`))))
			token = extractToken(w.Body.String())
		}
		req := httptest.NewRequest(rt.method, "/_allauth/app/v1/"+rt.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-Session-Token", token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", rt.method, rt.path, body, w.Code, w.Body.String())
		}
		select {
		case msg := <-failed:
			t.Fatalf("%s %s %q logged a failure: %s", rt.method, rt.path, body, msg)
		default:
		}
	})
}

// extractToken finds meta.session_token in an answer without decoding it strictly.
func extractToken(body string) string {
	const key = `"session_token":"`
	i := bytes.Index([]byte(body), []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte([]byte(rest), '"')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// fuzzLog hands the headless handler's error lines (its 500s) to the fuzz run.
type fuzzLog struct{ failed chan string }

func (l *fuzzLog) Write(p []byte) (int, error) {
	select {
	case l.failed <- string(p):
	default:
	}
	return len(p), nil
}

// FuzzHeadlessCredentials sends arbitrary session tokens, bearer tokens, session and
// trust cookies, CSRF tokens and route suffixes to both clients: none may panic the
// handler or be answered 500.
func FuzzHeadlessCredentials(f *testing.F) {
	for _, seed := range [][4]string{
		{"", "", "", "auth/session"}, {"x", "a.b.c", "y", "auth/session"}, {"\x00", "Bearer", "%", "auth/provider/callback/x"},
		{string(make([]byte, 5000)), "eyJhbGciOiJub25lIn0.e30.", "z", "config"}, {"tok", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "", "auth/2fa/trust"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], false)
		f.Add(seed[0], seed[1], seed[2], seed[3], true)
	}
	h, failed := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, token, bearer, cookie, path string, browser bool) {
		client := "app"
		if browser {
			client = "browser"
		}
		req, err := http.NewRequest(http.MethodPost, "http://example.test/_allauth/"+client+"/v1/"+path, bytes.NewReader([]byte("{}")))
		if err != nil {
			return // not a request a server would receive
		}
		req.Header.Set("X-Session-Token", token)
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("X-CSRFToken", cookie)
		req.Header.Set("Cookie", "sessionid="+cookie+"; mfa_trusted="+bearer+"; csrftoken="+cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %q: %d %s", client, path, w.Code, w.Body.String())
		}
		select {
		case msg := <-failed:
			t.Fatalf("%s %q logged a failure: %s", client, path, msg)
		default:
		}
	})
}
