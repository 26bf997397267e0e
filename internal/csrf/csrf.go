// Package csrf is the token algorithm of Django's CSRF middleware (django.middleware.csrf):
// the secret's alphabet and length, the format check and the unmasking of a masked token.
// It knows nothing of HTTP or accounts; the cookie, the header and the refusals are the
// caller's policy.
package csrf

import (
	"crypto/rand"
	"strings"
)

const (
	// SecretLen is Django's CSRF_SECRET_LENGTH: the length of the cookie's secret.
	SecretLen = 32
	// MaskedLen is Django's CSRF_TOKEN_LENGTH: a masked token is a mask followed by the
	// secret shifted by it.
	MaskedLen = 2 * SecretLen
	// Chars is Django's CSRF_ALLOWED_CHARS: ASCII letters and digits.
	Chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
)

// FormatProblem is Django's _check_token_format: "" when token is a secret (or, when
// maskedAllowed, also a masked token) made of Chars only, else Django's reason, "has
// incorrect length" or "has invalid characters", which the caller words into its answer.
func FormatProblem(token string, maskedAllowed bool) string {
	if len(token) != SecretLen && (!maskedAllowed || len(token) != MaskedLen) {
		return "has incorrect length"
	}
	if strings.IndexFunc(token, func(c rune) bool { return !strings.ContainsRune(Chars, c) }) >= 0 {
		return "has invalid characters"
	}
	return ""
}

// Unmask is Django's _unmask_cipher_token: it recovers the secret from a masked token, so
// that clients sending the masked token of a Django template keep working. masked must be
// MaskedLen long (FormatProblem checks it); a character outside Chars yields "", which
// matches no secret.
func Unmask(masked string) string {
	mask, cipher := masked[:SecretLen], masked[SecretLen:]
	out := make([]byte, SecretLen)
	for i := range out {
		m := strings.IndexByte(Chars, mask[i])
		c := strings.IndexByte(Chars, cipher[i])
		if m < 0 || c < 0 {
			return ""
		}
		out[i] = Chars[(c-m+len(Chars))%len(Chars)]
	}
	return string(out)
}

// NewSecret draws a fresh cookie secret, as Django's _get_new_csrf_string does.
func NewSecret() (string, error) { return RandomString(SecretLen, Chars) }

// RandomString draws n characters uniformly from alphabet (at most 256 characters) with
// crypto/rand, like Django's get_random_string.
func RandomString(n int, alphabet string) (string, error) {
	out := make([]byte, n)
	// The largest multiple of len(alphabet) that fits in a byte's range; an int, so that an
	// alphabet whose length divides 256 does not make it 0.
	limit := 256 - 256%len(alphabet)
	buf := make([]byte, n*2)
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue // rejection sampling keeps the draw unbiased
			}
			out[i] = alphabet[int(b)%len(alphabet)]
			i++
			if i == n {
				break
			}
		}
	}
	return string(out), nil
}
