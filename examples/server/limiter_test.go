package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLimiterKind: -limiter defaults to Redis exactly for deployments of several
// instances, and an explicit choice wins.
func TestLimiterKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		want    string
		wantErr string
	}{
		{nil, "memory", ""},
		{[]string{"-store", "memory"}, "memory", ""},
		{[]string{"-sessions", "store"}, "memory", ""},
		{[]string{"-sessions", "redis"}, "redis", ""},
		{[]string{"-store", "postgres"}, "redis", ""},
		{[]string{"-store", "postgres", "-limiter", "memory"}, "memory", ""},
		{[]string{"-limiter", "redis"}, "redis", ""},
		{[]string{"-limiter", "nope"}, "", "unknown -limiter"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			o, _, err := parseFlags(tt.args, io.Discard)
			require.NoError(t, err)
			got, err := limiterKind(o)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestLimiterRedisUnreachableFailsAtStart: a limiter that cannot reach Redis would let
// every request through, so the server refuses to start, saying what to do.
func TestLimiterRedisUnreachableFailsAtStart(t *testing.T) {
	t.Parallel()
	o, _, err := parseFlags([]string{"-store", "memory", "-limiter", "redis", "-redis", "127.0.0.1:1"}, io.Discard)
	require.NoError(t, err)
	_, err = openApp(context.Background(), o, slog.New(slog.NewTextHandler(io.Discard, nil)), testEnv)
	require.ErrorContains(t, err, "-limiter redis: redis at 127.0.0.1:1")
	assert.ErrorContains(t, err, "-limiter memory", "the error says how to run without Redis")
}

// TestTwoInstancesShareLoginLimits (F7): two instances on one account database give an
// account 5 wrong passwords in total when they count in one Redis, not 5 each, whether
// -limiter redis says so or -sessions redis implies it.
func TestTwoInstancesShareLoginLimits(t *testing.T) {
	t.Parallel()
	redisAddr := os.Getenv("RESTAUTH_TEST_REDIS_ADDR")
	tests := []struct {
		name        string
		args        []string
		needsRedis  bool
		wantAllowed int
	}{
		{"memory: per instance", []string{"-limiter", "memory"}, false, 10},
		{"-limiter redis", []string{"-limiter", "redis"}, true, 5},
		{"-sessions redis implies it", []string{"-sessions", "redis"}, true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-db", t.TempDir() + "/restauth.db"}, tt.args...)
			if tt.needsRedis {
				if redisAddr == "" {
					t.Skip("set RESTAUTH_TEST_REDIS_ADDR (e.g. 127.0.0.1:6379) to run the shared-limit test")
				}
				args = append(args, "-redis", redisAddr, "-redis-prefix", testRedisPrefix(t, redisAddr))
			}
			a := startServer(t, args...)
			b := startServer(t, args...)

			res, body := postJSON(t, a+"/api/auth/registration/", map[string]any{
				"username": "target", "password1": "a-long-passphrase", "password2": "a-long-passphrase"})
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
			allowed := 0
			for i := range 12 {
				base := []string{a, b}[i%2]
				res, body := postJSON(t, base+"/api/auth/login/", map[string]any{"username": "target", "password": "wrong-passphrase"})
				switch res.StatusCode {
				case http.StatusBadRequest:
					allowed++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("attempt %d: %d %v", i+1, res.StatusCode, body)
				}
			}
			assert.Equal(t, tt.wantAllowed, allowed, "wrong passwords checked before the account is throttled")
		})
	}
}

// testRedisPrefix is a key prefix of the test's own, so that runs do not share counts;
// its keys are deleted when the test ends.
func testRedisPrefix(t *testing.T, addr string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "restauth-test:" + hex.EncodeToString(b) + ":rl:"
	t.Cleanup(func() {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return prefix
}
