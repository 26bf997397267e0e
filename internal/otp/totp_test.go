package otp

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RFC 4226 appendix D: HOTP of the ASCII secret "12345678901234567890", six digits.
func TestHOTPRFC4226Vectors(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for counter, code := range want {
		assert.Equal(t, code, HOTP(key, uint64(counter), 6), "counter %d", counter)
	}
}

// RFC 6238 appendix B, SHA-1 column: eight digits, 30-second steps.
func TestTOTPRFC6238Vectors(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	tests := []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tc := range tests {
		step := Step(time.Unix(tc.unix, 0))
		assert.Equal(t, tc.code, HOTP(key, uint64(step), 8), "T=%d", tc.unix)
	}
}

func TestTOTPMatchWindow(t *testing.T) {
	t.Parallel()
	key := NewSecret()
	now := time.Date(2026, 11, 28, 12, 0, 15, 0, time.UTC)
	current := Step(now)
	tests := []struct {
		name   string
		offset int64
		ok     bool
	}{
		{"two steps early", -2, false},
		{"one step early", -1, true},
		{"current", 0, true},
		{"one step late", 1, true},
		{"two steps late", 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step, ok := Match(key, HOTP(key, uint64(current+tc.offset), Digits), now)
			require.Equal(t, tc.ok, ok)
			if ok {
				assert.Equal(t, current+tc.offset, step, "the step the code belongs to is reported")
			}
		})
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		_, ok := Match(key, bad, now)
		assert.False(t, ok, "%q", bad)
	}
}

func TestOTPAuthURL(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	raw := URL("Acme Parts", "alice", key)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "otpauth", u.Scheme)
	assert.Equal(t, "totp", u.Host)
	assert.Equal(t, "/Acme Parts:alice", u.Path)
	assert.True(t, strings.HasPrefix(raw, "otpauth://totp/Acme%20Parts:alice?"), raw)
	assert.Contains(t, raw, "issuer=Acme%20Parts", "%20, not +, which some apps show literally")
	q := u.Query()
	assert.Equal(t, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", q.Get("secret"))
	assert.Equal(t, "Acme Parts", q.Get("issuer"))
	assert.Equal(t, "SHA1", q.Get("algorithm"))
	assert.Equal(t, "6", q.Get("digits"))
	assert.Equal(t, "30", q.Get("period"))
}

// BenchmarkTOTPMatch is the cost of checking one code: three HMAC-SHA1s, whatever the code.
func BenchmarkTOTPMatch(b *testing.B) {
	key := NewSecret()
	now := time.Date(2026, 11, 28, 12, 0, 15, 0, time.UTC)
	code := HOTP(key, uint64(Step(now)), Digits)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Match(key, code, now); !ok {
			b.Fatal("no match")
		}
	}
}
