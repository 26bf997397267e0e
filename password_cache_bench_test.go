package restauth_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// BenchmarkLoginUnderBasicLoad is security finding 2's scenario: 6 source addresses × 2
// accounts × 5 parallel clients send Basic GET user/me/ in a loop while a normal user logs
// in; ns/op is that login's latency, with the default argon2id parameters. "every-request"
// is the behaviour before verified credentials were remembered (each Basic call hashed),
// "remembered" today's. Compare with: go test -run XXX -bench LoginUnderBasicLoad -benchtime 20x
func BenchmarkLoginUnderBasicLoad(b *testing.B) {
	for _, mode := range []string{"every-request", "remembered"} {
		b.Run(mode, func(b *testing.B) {
			svc, err := restauth.New(restauth.Config{
				Store: memstore.New(), Secret: testSecret, SiteURL: "http://bench",
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				// The scenario predates the bounded hash queue: let everything queue.
				Passwords:  restauth.PasswordConfig{MaxQueuedHashes: -1, MaxHashWait: -1},
				RateLimits: noRateLimits(),
			})
			if err != nil {
				b.Fatal(err)
			}
			if mode == "every-request" {
				restauth.HashEveryBasicCheck(svc)
			}
			ctx := context.Background()
			for _, name := range []string{"script-a", "script-b", "person"} {
				if _, err := svc.CreateUser(ctx, restauth.NewUser{Username: name, Password: goodPassword}); err != nil {
					b.Fatal(err)
				}
			}
			auth, user := svc.Handler(), svc.UserHandler()
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for addr := range 6 {
				for _, name := range []string{"script-a", "script-b"} {
					for range 5 {
						wg.Go(func() {
							basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(name+":"+goodPassword))
							for {
								// Paced like a script polling an API (50 requests a second each),
								// so that what the benchmark measures is the hashing, not a
								// CPU-bound loop.
								select {
								case <-stop:
									return
								case <-time.After(20 * time.Millisecond):
								}
								req := httptest.NewRequest(http.MethodGet, "/api/user/me/", nil)
								req.RemoteAddr = fmt.Sprintf("198.51.100.%d:1234", addr+1)
								req.Header.Set("Authorization", basic)
								user.ServeHTTP(httptest.NewRecorder(), req)
							}
						})
					}
				}
			}
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				auth.ServeHTTP(rec, jsonRequest(b, "/api/auth/login/", `{"username":"person","password":"`+goodPassword+`"}`))
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
		})
	}
}

func jsonRequest(b *testing.B, path, body string) *http.Request {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "203.0.113.9:4321"
	return req
}
