package restauth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBasicChallenge: DRF takes a failed request's WWW-Authenticate from the view's first
// authentication class, InvenTree's token one, so a bad Basic header answers "Token" on
// every route (a Basic challenge would pop up the browser's login dialog over the web UI's
// XHR); only login/, which authenticates by Basic alone, answers `Basic realm="api"`.
func TestBasicChallenge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("bea", goodPassword, "")
	wrong := "Basic " + b64("bea:wrong-password")
	tests := []struct {
		method, path, header, detail, challenge string
	}{
		{http.MethodGet, "/api/user/me/", wrong, "Invalid username/password.", "Token"},
		{http.MethodGet, "/api/user/roles/", wrong, "Invalid username/password.", "Token"},
		{http.MethodGet, "/api/user/token/", "Basic", "Invalid basic header. No credentials provided.", "Token"},
		{http.MethodGet, "/api/auth/user/", "Basic a b", "Invalid basic header. Credentials string should not contain spaces.", "Token"},
		{http.MethodGet, "/api/auth/providers/", "Basic " + b64("bea"), "Invalid basic header. Credentials not correctly base64 encoded.", "Token"},
		{http.MethodGet, "/api/auth/nonexistent/", wrong, "Invalid username/password.", "Token"},
		{http.MethodPost, "/api/auth/login/", wrong, "Invalid username/password.", `Basic realm="api"`},
		{http.MethodPost, "/api/auth/login/", "Basic", "Invalid basic header. No credentials provided.", `Basic realm="api"`},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.header, func(t *testing.T) {
			res := e.do(tc.method, tc.path, map[string]any{"username": "bea", "password": goodPassword}, withHeader("Authorization", tc.header))
			require.Equal(t, http.StatusUnauthorized, res.Code, res.Body.String())
			assert.Equal(t, map[string]any{"detail": tc.detail}, res.JSON(t))
			assert.Equal(t, tc.challenge, res.Header().Get("WWW-Authenticate"))
		})
	}

	t.Run("Middleware", func(t *testing.T) {
		h := e.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		req := httptest.NewRequest(http.MethodGet, "/api/things/", nil)
		req.Header.Set("Authorization", wrong)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, "Token", rec.Header().Get("WWW-Authenticate"), "host routes answer as InvenTree's views do")
	})
}
