package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/cookiejar"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/pgstore"
)

// TestTwoInstancesSharePostgresAndRedis runs two servers, as two app instances would, on one
// PostgreSQL schema with sessions in Redis.
func TestTwoInstancesSharePostgresAndRedis(t *testing.T) {
	dsn, redisAddr := os.Getenv("RESTAUTH_TEST_POSTGRES_DSN"), os.Getenv("RESTAUTH_TEST_REDIS_ADDR")
	if dsn == "" || redisAddr == "" {
		t.Skip("set RESTAUTH_TEST_POSTGRES_DSN and RESTAUTH_TEST_REDIS_ADDR to run the multi-instance test")
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	schema := "restauth_e2e_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		st, err := pgstore.Open(context.Background(), dsn, pgstore.WithSchema(schema))
		if err == nil {
			_, _ = st.Pool().Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			st.Close()
		}
	})
	// Limits are counted in Redis too (the default with -store postgres), under a prefix of
	// the test's own.
	args := []string{"-store", "postgres", "-dsn", dsn, "-pg-schema", schema, "-sessions", "redis", "-redis", redisAddr,
		"-redis-prefix", testRedisPrefix(t, redisAddr)}
	a, b := startServer(t, args...), startServer(t, args...)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	do := func(method, url string, body any, token string) (int, map[string]any) {
		t.Helper()
		res, out := sendJSON(t, browser, method, url, body, token)
		return res.StatusCode, out
	}

	status, body := do(http.MethodPost, a+"/api/auth/registration/", map[string]any{
		"username": "multi", "email": "multi@example.com", "password1": "a-long-passphrase", "password2": "a-long-passphrase"}, "")
	require.Equal(t, http.StatusNoContent, status, body)
	status, body = do(http.MethodPost, a+"/api/auth/login/", map[string]any{"username": "multi", "password": "a-long-passphrase"}, "")
	require.Equal(t, http.StatusOK, status, body)
	key := body["key"].(string)

	status, body = do(http.MethodGet, b+"/api/user/me/", nil, key)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "multi", body["username"])
	status, body = do(http.MethodGet, b+"/api/auth/user/", nil, "")
	require.Equal(t, http.StatusOK, status, "A's session cookie works on B: %v", body)

	status, _ = do(http.MethodPost, b+"/api/auth/logout/", nil, key)
	require.Equal(t, http.StatusOK, status)

	status, body = do(http.MethodGet, a+"/api/auth/user/", nil, key)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "Token has been revoked", body["detail"])
	status, _ = do(http.MethodGet, a+"/api/auth/user/", nil, "")
	assert.Equal(t, http.StatusUnauthorized, status, "the session ended on B is gone on A too")
}
