// Package otp holds the one-time codes of the second factor: TOTP as authenticator apps
// implement it, with its otpauth:// enrolment URI, and the recovery codes that stand in
// for a lost device. It knows nothing of users or storage: the caller seals the secret,
// remembers the used step and keeps only keyed hashes of the recovery codes.
package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TOTP as authenticator apps implement it (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1,
// six digits, 30-second steps. Those are the only parameters every app supports; the
// otpauth:// URI states them anyway.
const (
	// Period is the length of a TOTP step in seconds.
	Period = 30
	// Digits is the length of a TOTP code.
	Digits = 6
	// Skew is how many steps before and after the current one are accepted, for
	// clocks that drift and codes typed near the end of their window.
	Skew = 1
	// SecretBytes is RFC 4226's recommended 160-bit secret.
	SecretBytes = 20
)

// SecretEncoding is the secret's encoding in otpauth:// URIs and for manual entry:
// base32 without padding.
var SecretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// HOTP is RFC 4226's HOTP value of counter with the given number of digits.
func HOTP(key []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	code := strconv.FormatUint(uint64(bin%mod), 10)
	return strings.Repeat("0", digits-len(code)) + code
}

// Step is the time step t falls in.
func Step(t time.Time) int64 { return t.Unix() / Period }

// Match finds the step within the skew window around now whose code is code. Every
// candidate is computed and compared in constant time, so timing does not tell which
// step (if any) matched.
func Match(key []byte, code string, now time.Time) (step int64, ok bool) {
	if len(code) != Digits {
		return 0, false
	}
	current := Step(now)
	for s := current - Skew; s <= current+Skew; s++ {
		if s < 0 {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(HOTP(key, uint64(s), Digits)), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// NewSecret returns a fresh random secret.
func NewSecret() []byte {
	key := make([]byte, SecretBytes)
	rand.Read(key) // never fails (crypto/rand panics rather than return short)
	return key
}

// URL is the Key Uri Format authenticator apps import (usually from a QR code):
// otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30.
func URL(issuer, account string, key []byte) string {
	q := url.Values{}
	q.Set("secret", SecretEncoding.EncodeToString(key))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", strconv.Itoa(Digits))
	q.Set("period", strconv.Itoa(Period))
	// RFC 3986 encoding (%20, not +) as the Key Uri Format asks: some apps show a "+"
	// literally. Encode writes a real "+" as %2B, so every "+" left is a space.
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: strings.ReplaceAll(q.Encode(), "+", "%20")}
	return u.String()
}
