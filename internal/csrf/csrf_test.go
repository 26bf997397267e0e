package csrf

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Django's own test values (tests/csrf_tests/tests.py).
const (
	djangoSecret  = "lcccccccX2kcccccccY2jcccccccssIC"
	djangoMasked1 = "1bcdefghij2bcdefghij3bcdefghij4bcdefghij5bcdefghij6bcdefghijABCD"
	djangoMasked2 = "2JgchWvM1tpxT2lfz9aydoXW9yT1DN3NdLiejYxOOlzzV4nhBbYqmqZYbAV3V5Bf"
)

func TestFormatProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		token         string
		maskedAllowed bool
		want          string
	}{
		{"secret", djangoSecret, false, ""},
		{"secret where masked is allowed", djangoSecret, true, ""},
		{"masked", djangoMasked1, true, ""},
		{"masked where only a secret is allowed", djangoMasked1, false, "has incorrect length"},
		{"empty", "", true, "has incorrect length"},
		{"too short", strings.Repeat("a", 16), true, "has incorrect length"},
		{"one too long", djangoSecret + "a", true, "has incorrect length"},
		{"too long for masked", djangoMasked1 + "a", true, "has incorrect length"},
		{"invalid characters", strings.Repeat("*", 64), true, "has invalid characters"},
		{"dash in a secret", "lcccccccX2kcccccccY2jcccccccssI-", false, "has invalid characters"},
		{"non-ASCII of the right byte length", "é" + strings.Repeat("a", 30), false, "has invalid characters"},
		{"length is checked before characters", strings.Repeat("*", 10), true, "has incorrect length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, FormatProblem(tt.token, tt.maskedAllowed))
		})
	}
}

func TestUnmask(t *testing.T) {
	t.Parallel()
	// Django's test_unmask_cipher_token cases, plus a character outside the alphabet.
	tests := []struct {
		masked, want string
	}{
		{djangoMasked1, djangoSecret},
		{djangoMasked2, djangoSecret},
		{"vFioG3XOLyGyGsPRFyB9iYUs341ufzIEvFioG3XOLyGyGsPRFyB9iYUs341ufzIE", strings.Repeat("a", 32)},
		{strings.Repeat("a", 64), strings.Repeat("a", 32)},
		{strings.Repeat("b", 64), strings.Repeat("a", 32)},
		{strings.Repeat("a", 32) + strings.Repeat("b", 32), strings.Repeat("b", 32)},
		{strings.Repeat("b", 32) + strings.Repeat("c", 32), strings.Repeat("b", 32)},
		{strings.Repeat("a", 32) + strings.Repeat("c", 32), strings.Repeat("c", 32)},
		{strings.Repeat("*", 64), ""},
		{strings.Repeat("a", 63) + "-", ""},
	}
	for _, tt := range tests {
		t.Run(tt.masked, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Unmask(tt.masked))
		})
	}
}

// mask is Django's _mask_cipher_secret with a given mask, for the round trip.
func mask(secret, m string) string {
	out := []byte(m)
	for i := range secret {
		s, k := strings.IndexByte(Chars, secret[i]), strings.IndexByte(Chars, m[i])
		out = append(out, Chars[(s+k)%len(Chars)])
	}
	return string(out)
}

func TestUnmaskRoundTrip(t *testing.T) {
	t.Parallel()
	for range 50 {
		secret, err := NewSecret()
		require.NoError(t, err)
		m, err := NewSecret()
		require.NoError(t, err)
		masked := mask(secret, m)
		require.Empty(t, FormatProblem(masked, true))
		assert.Equal(t, secret, Unmask(masked))
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, err := NewSecret()
	require.NoError(t, err)
	b, err := NewSecret()
	require.NoError(t, err)
	assert.Len(t, a, SecretLen)
	assert.Empty(t, FormatProblem(a, false), "a fresh secret passes the format check")
	assert.NotEqual(t, a, b)
}

func TestRandomString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		n        int
		alphabet string
	}{
		{"digits", 6, "0123456789"},
		{"csrf alphabet", 200, Chars},
		{"one character", 5, "x"},
		{"length divides 256", 40, "0123456789abcdef"},
		{"empty result", 0, Chars},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := RandomString(tt.n, tt.alphabet)
			require.NoError(t, err)
			assert.Len(t, s, tt.n)
			for _, c := range s {
				assert.Contains(t, tt.alphabet, string(c))
			}
		})
	}
}
