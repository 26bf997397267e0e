package otp

import (
	"crypto/rand"
	"strings"
)

// Recovery codes: single-use codes of ten base32 characters (50 bits each), shown as
// "abcde-fghij". The caller stores only a keyed hash of NormalizeRecoveryCode's form, so a
// copy of the database neither gives them away nor lets them be guessed offline.
const (
	// RecoveryCodeChars is the number of code characters, the dash not counted.
	RecoveryCodeChars = 10
	// RecoveryCodeAlphabet is what a code is made of: lower-case base32, which has no
	// 0/O or 1/l to confuse.
	RecoveryCodeAlphabet = "abcdefghijklmnopqrstuvwxyz234567"
)

// NewRecoveryCode returns a fresh random code, "abcde-fghij".
func NewRecoveryCode() string {
	var raw [RecoveryCodeChars]byte
	rand.Read(raw[:])
	var b strings.Builder
	for i, c := range raw {
		if i == RecoveryCodeChars/2 {
			b.WriteByte('-')
		}
		b.WriteByte(RecoveryCodeAlphabet[c&31])
	}
	return b.String()
}

// NormalizeRecoveryCode forgives what people do when typing a code: capitals, dashes and
// spaces.
func NormalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return r
	}, code)
}
