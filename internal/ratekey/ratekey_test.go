package ratekey

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want int
	}{
		{-time.Second, 1},
		{0, 1},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{time.Second + time.Nanosecond, 2},
		{59*time.Second + 500*time.Millisecond, 60},
		{5 * time.Minute, 300},
		{time.Duration(1<<63 - 1), int((1<<63-1)/int64(time.Second)) + 1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, RetryAfterSeconds(tt.in), tt.in.String())
	}
}

func TestHash(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := Hash(secret, "email", "Alice@Example.com")
	assert.Regexp(t, `^email:[0-9a-f]{32}$`, k)
	assert.NotContains(t, k, "alice")
	assert.Equal(t, k, Hash(secret, "email", "alice@example.COM"), "case-insensitive")
	assert.Equal(t, Hash(secret, "login", "jess"), Hash(secret, "login", "je\u017fs"),
		"a long s is an s to a store that folds Unicode: one count for both spellings")
	assert.NotEqual(t, k, Hash(secret, "email", "bob@example.com"))
	assert.NotEqual(t, k[len("email:"):], Hash(secret, "login", "alice@example.com")[len("login:"):], "kinds are separated")
	assert.NotEqual(t, k, Hash([]byte("another secret, also 32 bytes long"), "email", "alice@example.com"))
}
