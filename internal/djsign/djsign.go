// Package djsign reproduces the parts of Django 4.2's django.core.signing (and
// django.utils.crypto.salted_hmac) that django-allauth uses for its HMAC e-mail
// confirmation keys: EmailConfirmationHMAC.key is
// signing.dumps(obj=email_address.pk, salt="account") and from_key checks it with
// signing.loads(key, salt="account", max_age=EMAIL_CONFIRMATION_EXPIRE_DAYS*86400).
//
// The confirmation keys made here are signed the same way (any Django can check them
// with signing.loads), but their object is [address pk, user pk, address tag] rather than
// the bare pk (security issue #16 finding 7): a pk alone is only as unique as the ids of
// the store, and after a restore that rewinds them an old key named another user's
// address. allauth's bare-pk keys are therefore no longer accepted.
package djsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Errors Unsign returns. They are distinct so that a caller (and a log line) can
// tell them apart; allauth answers all three the same way (the key is invalid).
var (
	// ErrBadSignature: the HMAC does not match (tampered key, other secret or salt).
	ErrBadSignature = errors.New("restauth: bad signature")
	// ErrSignatureExpired: the signature is valid but older than maxAge
	// (Django's SignatureExpired).
	ErrSignatureExpired = errors.New("restauth: signature expired")
	// ErrSignatureMalformed: the text does not have the shape of a signed value.
	ErrSignatureMalformed = errors.New("restauth: malformed signed value")
)

const (
	// signSep is Django's default Signer separator.
	signSep = ":"
	// confirmationSalt is allauth's ACCOUNT_SALT default ("account"), used for
	// EmailConfirmationHMAC keys.
	confirmationSalt = "account"
	// base62Alphabet is django.core.signing.BASE62_ALPHABET: digits, upper, lower.
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// SaltedHMAC is Django's salted_hmac(key_salt, value, secret, algorithm="sha256"): the
// HMAC key is SHA-256(key_salt + secret), always derived that way even when shorter
// than the block size, then HMAC-SHA256 over value. It returns the raw digest.
func SaltedHMAC(keySalt string, secret []byte, value string) []byte {
	kh := sha256.New()
	kh.Write([]byte(keySalt))
	kh.Write(secret)
	mac := hmac.New(sha256.New, kh.Sum(nil))
	mac.Write([]byte(value))
	return mac.Sum(nil)
}

// signature is Signer.signature in Django 4.2: base64_hmac(salt + "signer", value, key,
// algorithm="sha256"), i.e. urlsafe base64 of the salted HMAC with "=" padding stripped.
func signature(secret []byte, salt, value string) string {
	return base64.RawURLEncoding.EncodeToString(SaltedHMAC(salt+"signer", secret, value))
}

// unixSeconds is Python's int(time.time()): whole seconds since the Unix epoch,
// truncated toward zero (time.Unix floors, which differs only before 1970).
func unixSeconds(now time.Time) int64 {
	s := now.Unix()
	if s < 0 && now.Nanosecond() != 0 {
		s++
	}
	return s
}

// Sign is signing.dumps for a value already serialised to JSON (Django's
// JSONSerializer uses compact separators, so 42 is "42"): TimestampSigner signs
// "<urlsafe b64 of value, no padding>:<base62 unix time>" and appends ":<signature>".
// Compression is never applied, as in dumps(compress=False), which allauth uses.
func Sign(secret []byte, salt string, value string, now time.Time) string {
	b64 := base64.RawURLEncoding.EncodeToString([]byte(value))
	// TimestampSigner.sign: value + sep + b62_encode(int(time.time())).
	v := b64 + signSep + b62Encode(unixSeconds(now))
	// Signer.sign: value + sep + signature(value).
	return v + signSep + signature(secret, salt, v)
}

// Unsign is signing.loads with max_age: it checks the signature (in constant time),
// then the age, and returns the JSON text that was signed. A negative maxAge disables
// the age check, like max_age=None; zero is a real limit (only keys signed in the current
// second pass). Errors: ErrSignatureMalformed, ErrBadSignature, ErrSignatureExpired.
func Unsign(secret []byte, salt, signed string, maxAge time.Duration, now time.Time) (value string, err error) {
	// Signer.unsign: no separator at all is a BadSignature; otherwise split on the
	// last separator into value and signature.
	i := strings.LastIndex(signed, signSep)
	if i < 0 {
		return "", ErrSignatureMalformed
	}
	v, sig := signed[:i], signed[i+len(signSep):]
	want := signature(secret, salt, v)
	// constant_time_compare(sig, self.signature(value)). Django 4.2 also tries
	// SECRET_KEY_FALLBACKS; we have one secret. No legacy sha1 signature is accepted.
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return "", ErrBadSignature
	}

	// TimestampSigner.unsign: the timestamp follows the last separator of the value.
	// Django raises ValueError (not BadSignature) on a missing or bad timestamp; that is
	// only reachable with a genuine signature, i.e. never from outside.
	j := strings.LastIndex(v, signSep)
	if j < 0 {
		return "", ErrSignatureMalformed
	}
	payload, tsText := v[:j], v[j+len(signSep):]
	ts, err := b62Decode(tsText)
	if err != nil {
		return "", ErrSignatureMalformed
	}
	if maxAge >= 0 && signatureExpired(ts, maxAge, now) {
		return "", ErrSignatureExpired
	}

	// Signer.unsign_object: a leading "." marks zlib compression, which dumps only applies
	// when asked (allauth never does); such values are refused rather than inflated.
	if strings.HasPrefix(payload, ".") {
		return "", ErrSignatureMalformed
	}
	data, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return "", ErrSignatureMalformed
	}
	return string(data), nil
}

// signatureExpired reproduces `time.time() - timestamp > max_age` with Python's float
// clock: the fraction of the current second counts, so a key is still valid exactly
// maxAge after signing and expired a microsecond later. Integer arithmetic avoids
// overflow for any timestamp.
func signatureExpired(ts int64, maxAge time.Duration, now time.Time) bool {
	nowSec, nowNsec := now.Unix(), int64(now.Nanosecond()) // now = nowSec + nowNsec/1e9
	if ts > nowSec {
		// Signed in the future (clock skew between instances): age is negative, and
		// Django only refuses ages above max_age.
		return false
	}
	if ts < 0 && nowSec > math.MaxInt64+ts {
		return true // age does not fit in an int64: far beyond any maxAge.
	}
	age := nowSec - ts
	maxSec, maxNsec := int64(maxAge/time.Second), int64(maxAge%time.Second)
	return age > maxSec || (age == maxSec && nowNsec > maxNsec)
}

// Confirmation is what a confirmation key names: one address of one user, as it was
// when the key was made.
type Confirmation struct {
	AddressID int64
	UserID    int64
	// emailTag is addressTag of the address text the key was made for.
	emailTag string
}

// addressTagSalt separates the address tag's HMAC key from every other use of the secret.
const addressTagSalt = "restauth.djsign.confirmation-address"

// addressTag is a keyed digest of an address: the key binds the address text without
// carrying it, so a link that leaks (logs, Referer) does not tell the address. 64 bits
// are plenty: the tag only has to tell apart addresses that share an id and a user.
func addressTag(secret []byte, email string) string {
	return hex.EncodeToString(SaltedHMAC(addressTagSalt, secret, email)[:8])
}

// Matches reports whether the key was made for this user's address with this text, the
// check the caller makes once it has looked the address up by c.AddressID.
func (c Confirmation) Matches(secret []byte, userID int64, email string) bool {
	return c.UserID == userID && hmac.Equal([]byte(c.emailTag), []byte(addressTag(secret, email)))
}

// MakeConfirmationKey is allauth's EmailConfirmationHMAC(email_address).key with a
// bound object: signing.dumps(obj=[address pk, user pk, tag], salt="account"), where
// tag is a keyed digest of the address text.
func MakeConfirmationKey(secret []byte, addressID, userID int64, email string, now time.Time) string {
	// json.dumps with Django's compact separators.
	obj := "[" + strconv.FormatInt(addressID, 10) + "," + strconv.FormatInt(userID, 10) + `,"` + addressTag(secret, email) + `"]`
	return Sign(secret, confirmationSalt, obj, now)
}

// ParseConfirmationKey is the signing part of allauth's EmailConfirmationHMAC.from_key:
// signing.loads(key, salt="account", max_age=...) and what the object names. The caller
// still has to look the address up, check Confirmation.Matches and that it is unverified.
func ParseConfirmationKey(secret []byte, key string, maxAge time.Duration, now time.Time) (Confirmation, error) {
	v, err := Unsign(secret, confirmationSalt, key, maxAge, now)
	if err != nil {
		return Confirmation{}, err
	}
	// Only MakeConfirmationKey's exact form is taken: anything else carrying a genuine
	// signature was signed for another purpose (or is an old bare-pk key) and is refused.
	inner, ok := strings.CutPrefix(v, "[")
	if inner, ok = strings.CutSuffix(inner, `"]`); !ok || !strings.HasPrefix(v, "[") {
		return Confirmation{}, ErrSignatureMalformed
	}
	parts := strings.Split(inner, ",")
	if len(parts) != 3 || !strings.HasPrefix(parts[2], `"`) {
		return Confirmation{}, ErrSignatureMalformed
	}
	addressID, ok1 := canonicalInt(parts[0])
	userID, ok2 := canonicalInt(parts[1])
	tag := parts[2][1:]
	if !ok1 || !ok2 || len(tag) != 16 || strings.Trim(tag, "0123456789abcdef") != "" {
		return Confirmation{}, ErrSignatureMalformed
	}
	return Confirmation{AddressID: addressID, UserID: userID, emailTag: tag}, nil
}

// canonicalInt parses json.dumps' canonical form of an int (no "+", leading zeros, spaces).
func canonicalInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == s
}

// b62Encode is django.core.signing.b62_encode: base 62 over base62Alphabet with a
// leading "-" for negative numbers; 0 is "0".
func b62Encode(n int64) string {
	if n == 0 {
		return "0"
	}
	// Work on the magnitude as uint64 so that math.MinInt64 needs no special case.
	u := uint64(n)
	if n < 0 {
		u = -u
	}
	var buf [12]byte // 11 base-62 digits cover 2^64, plus the sign.
	i := len(buf)
	for u > 0 {
		i--
		buf[i] = base62Alphabet[u%62]
		u /= 62
	}
	if n < 0 {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// b62Decode is django.core.signing.b62_decode, restricted to int64. Django decodes ""
// and "-" to 0 (and fails on a bad digit with ValueError); both only ever see
// b62Encode's output (the timestamp is under the signature), so refusing what b62Encode
// cannot produce changes nothing; leading zeros are accepted, as Django does, up to the
// 11 digits that cover 64 bits.
func b62Decode(s string) (int64, error) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 11 {
		return 0, ErrSignatureMalformed
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base62Alphabet, s[i])
		if d < 0 {
			return 0, ErrSignatureMalformed
		}
		if u > (math.MaxUint64-uint64(d))/62 {
			return 0, ErrSignatureMalformed
		}
		u = u*62 + uint64(d)
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), nil
	case neg && u <= 1<<63:
		return int64(-u), nil // two's complement: -(1<<63) becomes math.MinInt64.
	}
	return 0, ErrSignatureMalformed
}
