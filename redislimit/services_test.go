package redislimit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// TestTwoServicesShareFailedLoginLimit runs two Services, as two app instances would, each
// with its own Redis client but one limiter namespace: failed logins on one count on the other.
func TestTwoServicesShareFailedLoginLimit(t *testing.T) {
	t.Parallel()
	rdb, prefix := testRedis(t)
	store := memstore.New()
	newService := func() http.Handler {
		svc, err := restauth.New(restauth.Config{
			Store: store, Secret: bytes.Repeat([]byte("s"), 32), SiteURL: "http://testserver",
			Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
			Limiter:   New(newClient(t, rdb.Options().Addr), WithPrefix(prefix)),
			RateLimits: restauth.RateLimits{
				LoginFailedPerAccount: restauth.RateRule{Limit: 3, Window: time.Minute},
				LoginFailedPerIP:      restauth.RateRule{Limit: -1},
			},
		})
		require.NoError(t, err)
		return svc.Handler()
	}
	a, b := newService(), newService()
	login := func(h http.Handler) *httptest.ResponseRecorder {
		body, _ := json.Marshal(map[string]string{"username": "shared-victim", "password": "wrong"})
		req := httptest.NewRequest(http.MethodPost, "/api/auth/login/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i, h := range []http.Handler{a, b, a} {
		require.Equal(t, http.StatusBadRequest, login(h).Code, "attempt %d", i+1)
	}
	rec := login(b)
	require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	require.NoError(t, err)
	assert.Positive(t, retry)
	assert.Equal(t, http.StatusTooManyRequests, login(a).Code, "refused on the first instance too")
}
