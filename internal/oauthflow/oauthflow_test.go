package oauthflow

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func TestSealOpen(t *testing.T) {
	t.Parallel()
	f := &Flow{Provider: "github", State: "st", Nonce: "n", Verifier: "v", Connect: true, UserID: 7, Next: "https://app.example/x", Expires: 1700000600}
	name := CookieName(f.State)
	value, err := Seal(testSecret, name, f)
	require.NoError(t, err)
	assert.NotContains(t, value, "github", "the cookie is unreadable")
	assert.NotContains(t, value, "=", "base64url without padding")

	got, err := Open(testSecret, name, value)
	require.NoError(t, err)
	assert.Equal(t, f, got)

	raw, err := base64.RawURLEncoding.DecodeString(value)
	require.NoError(t, err)
	raw[len(raw)-1] ^= 1
	tests := []struct{ name, cookie, value string }{
		{"another cookie name", CookieName("other"), value},
		{"tampered", name, base64.RawURLEncoding.EncodeToString(raw)},
		{"truncated", name, value[:10]},
		{"not base64", name, "*" + value},
		{"empty", name, ""},
	}
	for _, tt := range tests {
		_, err := Open(testSecret, tt.cookie, tt.value)
		assert.Error(t, err, tt.name)
	}
	_, err = Open([]byte("another-secret-another-secret-00"), name, value)
	assert.Error(t, err, "another secret")
}

func TestCookieName(t *testing.T) {
	t.Parallel()
	a := CookieName("state-a")
	assert.Regexp(t, `^restauth_sso_[0-9a-f]{16}$`, a)
	assert.Equal(t, a, CookieName("state-a"))
	assert.NotEqual(t, a, CookieName("state-b"), "concurrent flows have cookies of their own")
}

func TestReplayCache(t *testing.T) {
	t.Parallel()
	var c ReplayCache
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	exp := now.Add(10 * time.Minute)
	require.True(t, c.Consume("s1", exp, now))
	assert.False(t, c.Consume("s1", exp, now.Add(time.Minute)), "replayed within the flow's life")
	assert.True(t, c.Consume("s2", exp, now), "another state")
	assert.False(t, c.Consume("s1", exp, exp), "still refused at the expiry instant")
	// After expiry the state is forgotten (and pruned); the flow itself is refused as
	// expired by the caller before the cache is asked.
	later := exp.Add(2 * time.Minute)
	assert.True(t, c.Consume("s1", later.Add(time.Minute), later))
	c.mu.Lock()
	n := len(c.seen)
	c.mu.Unlock()
	assert.Equal(t, 1, n, "expired states are pruned")
	assert.False(t, c.Consume("s1", later.Add(time.Minute), later.Add(-time.Hour)), "a clock going back prunes nothing live")
}

func TestRandom(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		s, err := Random(32)
		require.NoError(t, err)
		assert.Len(t, s, 43)
		assert.False(t, strings.ContainsAny(s, "+/="), s)
		assert.False(t, seen[s])
		seen[s] = true
	}
}
