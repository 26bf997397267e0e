package restauth_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

func hashesOf(e *testEnv) int64 { return restauth.HashesComputed(e.svc) }

// Security finding 8: a browser that cached Basic credentials sends them with a
// cross-site form post; such unsafe requests get the Origin / Fetch-Metadata checks that
// session requests get, while API clients (no Origin, no Sec-Fetch-Site) are unaffected.
func TestBasicUnsafeRequestsFromOtherSitesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("basil", goodPassword, "")
	var hashes int64 = -1
	for _, tc := range []struct {
		name    string
		opts    []reqOpt
		want    int
		hashed  bool
		address string
	}{
		{"cross-site form post", []reqOpt{withHeader("Origin", "http://evil.example"), withHeader("Sec-Fetch-Site", "cross-site")}, http.StatusForbidden, false, "a@example.com"},
		{"foreign Origin alone", []reqOpt{withHeader("Origin", "http://evil.example")}, http.StatusForbidden, false, "b@example.com"},
		{"same origin browser", []reqOpt{withHeader("Origin", "http://testserver"), withHeader("Sec-Fetch-Site", "same-origin")}, http.StatusCreated, true, "c@example.com"},
		// (Remembered from the call before: no new hash needed, see password_cache.go.)
		{"API client without browser headers", nil, http.StatusCreated, true, "d@example.com"},
	} {
		opts := append([]reqOpt{withBasic("basil", goodPassword)}, tc.opts...)
		before := hashesOf(e)
		res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": tc.address}, opts...)
		require.Equal(t, tc.want, res.Code, "%s: %s", tc.name, res.Body.String())
		if tc.want == http.StatusForbidden {
			assert.Contains(t, res.JSON(t)["detail"], "CSRF Failed: Origin checking failed", tc.name)
		}
		if !tc.hashed {
			assert.Equal(t, before, hashesOf(e), "%s: refused before the password is hashed", tc.name)
		}
		hashes = hashesOf(e)
	}
	assert.Positive(t, hashes)
	// Safe methods stay open to Basic from anywhere (nothing changes state).
	res := e.do(http.MethodGet, "/api/user/me/", nil, withBasic("basil", goodPassword), withHeader("Sec-Fetch-Site", "cross-site"))
	assert.Equal(t, http.StatusOK, res.Code)
}
