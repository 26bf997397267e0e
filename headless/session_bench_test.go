package headless_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/memstore"
)

// BenchmarkHeadlessSessionCheck is the session check (GET auth/session) of a logged-in
// browser (the sessionid cookie) and app (X-Session-Token), with the session manager's own
// codec and, for comparison, scs's gob codec it replaced.
func BenchmarkHeadlessSessionCheck(b *testing.B) {
	for _, codec := range []struct {
		name  string
		codec scs.Codec
	}{{"codec=restauth", nil}, {"codec=gob", scs.GobCodec{}}} {
		for _, app := range []bool{false, true} {
			name := codec.name + "/client=browser"
			if app {
				name = codec.name + "/client=app"
			}
			b.Run(name, func(b *testing.B) {
				h, req := benchSessionCheck(b, codec.codec, app)
				b.ReportAllocs()
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatal(rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
}

// benchSessionCheck builds a Service on memstore with one logged-in session and returns
// the headless handler with a session check request of that session. A non-nil codec
// replaces the manager's (scs's GobCodec, to measure what restauth's replaced).
func benchSessionCheck(b *testing.B, codec scs.Codec, app bool) (http.Handler, *http.Request) {
	b.Helper()
	svc, err := restauth.New(restauth.Config{
		Store: memstore.New(), Secret: []byte("a-headless-bench-secret-of-at-least-32-bytes"), SiteURL: "http://example.test",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	sm := svc.Sessions()
	if codec != nil {
		sm.Codec = codec
	}
	ctx := context.Background()
	res, err := svc.Register(ctx, restauth.RegisterRequest{Username: "ada", Email: "ada@example.test",
		Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
	if err != nil {
		b.Fatal(err)
	}
	sctx, err := sm.Load(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	rec := svc.NewAuthRecord("password")
	rec.Username = res.User.Username
	if err := svc.LoginSession(sctx, res.User, rec); err != nil {
		b.Fatal(err)
	}
	token, _, err := sm.Commit(sctx)
	if err != nil {
		b.Fatal(err)
	}
	h := headless.Handler(svc, headless.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var req *http.Request
	if app {
		req = httptest.NewRequest(http.MethodGet, "/_allauth/app/v1/auth/session", nil)
		req.Header.Set("X-Session-Token", token)
	} else {
		req = httptest.NewRequest(http.MethodGet, "/_allauth/browser/v1/auth/session", nil)
		req.AddCookie(&http.Cookie{Name: sm.Cookie.Name, Value: token})
	}
	return h, req
}
