package restauth_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// countingBody counts what the server pulls from a request body, shared by many requests.
type countingBody struct {
	r    io.Reader
	read *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// bodyRequest is an anonymous JSON POST whose body counts its reads into read;
// contentLength -1 sends it without a declared length, as a chunked body arrives.
func bodyRequest(path, body string, contentLength int64, addr string, read *atomic.Int64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://testserver"+path, countingBody{strings.NewReader(body), read})
	r.ContentLength = contentLength
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr + ":1234"
	return r
}

// TestOversizeBodiesAreNotRead is issue 17's F6: 300 parallel over-limit bodies with
// Content-Length set are all refused with 413 having read 0 bytes of them, on every
// anonymous body route; memory stays flat because nothing is buffered. Bodies without a
// declared length are cut at the limit.
func TestOversizeBodiesAreNotRead(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	e := newEnv(t, func(c *restauth.Config) { c.MaxBodyBytes = limit })
	oversize := `{"username": "` + strings.Repeat("x", 64*limit) + `"}`
	paths := []string{"/api/auth/login/", "/api/auth/registration/", "/api/auth/password/reset/"}

	var read atomic.Int64
	codes := make([]int, 300)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			req := bodyRequest(paths[i%len(paths)], oversize, int64(len(oversize)), "192.0.2."+strconv.Itoa(i%250), &read)
			rec := httptest.NewRecorder()
			e.mux.ServeHTTP(rec, req)
			codes[i] = rec.Code
			if i == 0 {
				assert.JSONEq(t, `{"detail": "Request body is too large."}`, rec.Body.String())
				assert.Equal(t, "close", rec.Header().Get("Connection"), "not drained for keep-alive")
			}
		})
	}
	wg.Wait()
	for i, code := range codes {
		require.Equal(t, http.StatusRequestEntityTooLarge, code, "request %d", i)
	}
	assert.Zero(t, read.Load(), "bytes read from 300 oversize bodies")

	read.Store(0)
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, bodyRequest("/api/auth/login/", oversize, -1, "192.0.2.1", &read))
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.LessOrEqual(t, read.Load(), int64(limit+1), "an undeclared length is read up to the limit only")
}

// TestAnonymousBodiesPerIP: RateLimits.BodyPerIP refuses an address's anonymous unsafe
// requests on public routes before their body is read, leaves other addresses,
// authenticated callers and safe methods alone, and is off with Limit -1.
func TestAnonymousBodiesPerIP(t *testing.T) {
	t.Parallel()
	rule := restauth.RateRule{Limit: 3, Window: time.Minute}
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) { l.BodyPerIP = rule }))
	_, key := e.register("alice", "correct horse battery", "alice@example.com")
	body := `{"username": "nobody", "password": "wrong"}`
	var read atomic.Int64
	send := func(addr string, opts ...reqOpt) *httptest.ResponseRecorder {
		req := bodyRequest("/api/auth/login/", body, int64(len(body)), addr, &read)
		for _, o := range opts {
			o(req)
		}
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		openAPI(t).Check(t, req, rec.Result())
		return rec
	}

	for i := range rule.Limit {
		assert.Equal(t, http.StatusBadRequest, send("198.51.100.7").Code, "attempt %d is read and answered", i)
	}
	before := read.Load()
	rec := send("198.51.100.7")
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	assert.Equal(t, before, read.Load(), "the refused body was not read")

	assert.Equal(t, http.StatusBadRequest, send("198.51.100.8").Code, "another address is not affected")
	logout := httptest.NewRequest(http.MethodPost, "http://testserver/api/auth/logout/", nil)
	logout.RemoteAddr = "198.51.100.7:1234"
	logout.Header.Set("Authorization", "Token "+key)
	res := httptest.NewRecorder()
	e.mux.ServeHTTP(res, logout)
	assert.Equal(t, http.StatusOK, res.Code, "an authenticated caller is not counted: %s", res.Body.String())
	get := httptest.NewRequest(http.MethodGet, "http://testserver/api/auth/providers/", nil)
	get.RemoteAddr = "198.51.100.7:1234"
	res = httptest.NewRecorder()
	e.mux.ServeHTTP(res, get)
	assert.Equal(t, http.StatusOK, res.Code, "safe methods are not counted")

	off := newEnv(t, withLimits(func(l *restauth.RateLimits) { l.BodyPerIP = restauth.RateRule{Limit: -1} }))
	for i := range 2 * rule.Limit {
		req := bodyRequest("/api/auth/login/", body, int64(len(body)), "198.51.100.7", &read)
		rec := httptest.NewRecorder()
		off.mux.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusBadRequest, rec.Code, "rule off: attempt %d", i)
	}
}

// BenchmarkOversizeBodyRefused prints what a refused over-limit body costs the server:
// no byte read, and the allocations of the 413 answer only (compare B/op with the body
// size).
func BenchmarkOversizeBodyRefused(b *testing.B) {
	svc, err := restauth.New(restauth.Config{Store: memstore.New(), Secret: testSecret, SiteURL: "http://testserver",
		Passwords: cheapPasswords, RateLimits: noRateLimits()})
	require.NoError(b, err)
	h := svc.Handler()
	oversize := `{"username": "` + strings.Repeat("x", 8<<20) + `"}`
	var read atomic.Int64
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, bodyRequest("/api/auth/login/", oversize, int64(len(oversize)), "192.0.2.1", &read))
		if rec.Code != http.StatusRequestEntityTooLarge {
			b.Fatal(rec.Code)
		}
	}
	b.ReportMetric(float64(read.Load())/float64(b.N), "body-bytes-read/op")
	b.ReportMetric(float64(len(oversize)), "body-bytes/op")
}
