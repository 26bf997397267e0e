package restauth_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// benchService is a Service on a memstore with one user and its token.
func benchService(b *testing.B) (*restauth.Service, string) {
	b.Helper()
	// The operations emit audit events now; a benchmark's output is its figures only.
	svc, err := restauth.New(restauth.Config{Store: memstore.New(), Secret: testSecret, SiteURL: "http://bench", Passwords: cheapPasswords,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	res, err := svc.Register(context.Background(), restauth.RegisterRequest{Username: "bench", Email: "bench@example.com", Password1: goodPassword, Password2: goodPassword})
	if err != nil {
		b.Fatal(err)
	}
	return svc, res.Token.Key
}

// BenchmarkTokenUserDetails is the hot path: GET /api/auth/user/ with a token.
func BenchmarkTokenUserDetails(b *testing.B) {
	svc, key := benchService(b)
	h := svc.Handler()
	req := httptest.NewRequest(http.MethodGet, "/api/auth/user/", nil)
	req.Header.Set("Authorization", "Token "+key)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkMiddleware is what every host-app request pays for token authentication.
func BenchmarkMiddleware(b *testing.B) {
	svc, key := benchService(b)
	h := svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest(http.MethodGet, "/app/", nil)
	req.Header.Set("Authorization", "Token "+key)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// BenchmarkAuthenticateToken is token lookup and user load without HTTP.
func BenchmarkAuthenticateToken(b *testing.B) {
	svc, key := benchService(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := svc.AuthenticateToken(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
