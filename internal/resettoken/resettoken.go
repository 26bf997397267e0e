// Package resettoken reproduces Django 4.2's PasswordResetTokenGenerator as subclassed by
// django-allauth (EmailAwarePasswordResetTokenGenerator in allauth/account/forms.py),
// which dj-rest-auth's password reset uses when allauth is installed, and the uid in a
// reset link: allauth's user_pk_to_url_str, int_to_base36(user.pk). Tokens made by the
// reference with the same SECRET_KEY are accepted here and the other way round.
package resettoken

import (
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/djsign"
)

// resetKeySalt is PasswordResetTokenGenerator.key_salt.
const resetKeySalt = "django.contrib.auth.tokens.PasswordResetTokenGenerator"

// resetEpoch is the origin of reset-token timestamps: _num_seconds counts seconds since
// datetime(2001, 1, 1). Django compares it with naive datetime.now(), i.e. the server's
// TIME_ZONE; the reference runs with TIME_ZONE="UTC", so UTC is used here.
var resetEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrBase36 is returned by DecodeBase36 for any input it refuses.
var ErrBase36 = errors.New("restauth: invalid base36 value")

// EncodeBase36 is django.utils.http.int_to_base36 (lowercase digits, "0" for 0). Django
// raises ValueError for a negative number; this returns "" instead, which DecodeBase36
// refuses, so a negative input can never yield a usable uid or token.
func EncodeBase36(n int64) string {
	if n < 0 {
		return ""
	}
	return strconv.FormatInt(n, 36) // lowercase 0-9a-z, like Django's char_set
}

// DecodeBase36 is django.utils.http.base36_to_int limited to what int_to_base36
// produces: Django refuses more than 13 characters ("to prevent overconsumption of
// server resources") and then calls int(s, 36), which would also take upper case,
// surrounding spaces, a sign and "_" separators. Those forms never come out of
// int_to_base36 and are refused here, as are values beyond int64 (where Django's
// database lookup fails with OverflowError, answered as an invalid uid). Leading zeros
// are accepted, as int() does.
func DecodeBase36(s string) (int64, error) {
	if s == "" || len(s) > 13 {
		return 0, ErrBase36
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case 'a' <= c && c <= 'z':
			d = uint64(c-'a') + 10
		default:
			return 0, ErrBase36
		}
		// 13 digits can reach 36^13-1 > 2^64, so check before each step.
		if n > (math.MaxInt64-d)/36 {
			return 0, ErrBase36
		}
		n = n*36 + d
	}
	return int64(n), nil
}

// Generator makes and checks password-reset tokens "<ts base36>-<hash>". The zero value
// works (an empty secret, a zero timeout).
type Generator struct {
	// Secret is SECRET_KEY.
	Secret []byte
	// Timeout is settings.PASSWORD_RESET_TIMEOUT: a token is refused once more than this
	// many whole seconds have passed since it was made.
	Timeout time.Duration
}

// User holds the fields of a user the token hashes; a change to any of them (or to the
// user's addresses) invalidates the tokens made before.
type User struct {
	// ID is user.pk.
	ID int64
	// PasswordHash is user.password, the encoded hash.
	PasswordHash string
	// LastLogin is user.last_login; the zero time stands for a user who never logged in.
	LastLogin time.Time
	// Email is user.email (EMAIL_FIELD), "" when the user has none.
	Email string
}

// resetSeconds is _num_seconds(dt): int((dt - datetime(2001, 1, 1)).total_seconds()),
// whole seconds truncated toward zero.
func resetSeconds(t time.Time) int64 {
	u, epoch := t.Unix(), resetEpoch.Unix()
	if u < math.MinInt64+epoch {
		return math.MinInt64 // saturate rather than wrap for absurd clocks
	}
	s := u - epoch
	if s < 0 && t.Nanosecond() != 0 {
		s++ // int() truncates toward zero; Unix() floors.
	}
	return s
}

// djangoResetHashValue is PasswordResetTokenGenerator._make_hash_value:
// f"{user.pk}{user.password}{login_timestamp}{timestamp}{email}".
func djangoResetHashValue(u *User, timestamp int64) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(u.ID, 10))
	b.WriteString(u.PasswordHash)
	// login_timestamp is "" for a user who never logged in, else
	// last_login.replace(microsecond=0, tzinfo=None) formatted by str(datetime). Django
	// reads last_login from the database as UTC, so the UTC wall clock is used; the
	// layout drops sub-seconds, which is the replace(microsecond=0).
	if !u.LastLogin.IsZero() {
		b.WriteString(u.LastLogin.UTC().Format("2006-01-02 15:04:05"))
	}
	b.WriteString(strconv.FormatInt(timestamp, 10))
	// getattr(user, EMAIL_FIELD, "") or "".
	b.WriteString(u.Email)
	return b.String()
}

// allauthEmailSuffix is what EmailAwarePasswordResetTokenGenerator._make_hash_value
// appends: "|".join(sorted(set([user_email(user)] if user_email(user) else []) |
// set(EmailAddress emails of the user))). So a token dies when an address is added,
// removed or changed. The set is exact (case-sensitive), like Python's; sorting by
// bytes matches Python's code-point order for UTF-8 text. (allauth first runs
// sync_user_email_address, which may add user.email as an EmailAddress: it is in the
// set either way, so the result is the same.)
func allauthEmailSuffix(userEmail string, emails []string) string {
	set := make([]string, 0, len(emails)+1)
	if userEmail != "" {
		set = append(set, userEmail)
	}
	set = append(set, emails...)
	slices.Sort(set)
	set = slices.Compact(set)
	return strings.Join(set, "|")
}

// resetHashValue is the full allauth hash value for u at timestamp; emails are the
// addresses of the user's EmailAddress records.
func resetHashValue(u *User, emails []string, timestamp int64) string {
	return djangoResetHashValue(u, timestamp) + allauthEmailSuffix(u.Email, emails)
}

// tokenWithTimestamp is _make_token_with_timestamp(user, timestamp, secret).
func (r Generator) tokenWithTimestamp(u *User, emails []string, timestamp int64) string {
	return r.tokenForHashValue(resetHashValue(u, emails, timestamp), timestamp)
}

// tokenForHashValue is the rest of _make_token_with_timestamp with algorithm sha256:
// int_to_base36(timestamp) + "-" + salted_hmac(key_salt, hash_value).hexdigest()[::2]
// (every second hex digit, "Limit to shorten the URL").
func (r Generator) tokenForHashValue(hashValue string, timestamp int64) string {
	sum := hex.EncodeToString(djsign.SaltedHMAC(resetKeySalt, r.Secret, hashValue))
	half := make([]byte, 0, len(sum)/2)
	for i := 0; i < len(sum); i += 2 {
		half = append(half, sum[i])
	}
	return EncodeBase36(timestamp) + "-" + string(half)
}

// Make is make_token(user) at now. emails are the user's EmailAddress addresses (any
// order). A clock before 2001 gives a token Check always refuses (Django raises).
func (r Generator) Make(u *User, emails []string, now time.Time) string {
	return r.tokenWithTimestamp(u, emails, resetSeconds(now))
}

// Check is check_token(user, token) at now: the token must be exactly what Make would
// have produced for its timestamp (compared in constant time) and no older than
// timeout. Unlike Django before 4.0 it accepts no legacy sha1 token, and unlike Django
// 4.2 it knows no SECRET_KEY_FALLBACKS.
func (r Generator) Check(u *User, emails []string, token string, now time.Time) bool {
	// `if not (user and token): return False`.
	if u == nil || token == "" {
		return false
	}
	// `ts_b36, _ = token.split("-")`: exactly one "-".
	tsText, _, ok := strings.Cut(token, "-")
	if !ok || strings.Contains(token[len(tsText)+1:], "-") {
		return false
	}
	ts, err := DecodeBase36(tsText)
	if err != nil {
		return false
	}
	// "Check that the timestamp/uid has not been tampered with": the whole token,
	// timestamp included, is compared, so only the canonical timestamp text can match.
	want := r.tokenWithTimestamp(u, emails, ts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(token)) != 1 {
		return false
	}
	// `(self._num_seconds(self._now()) - ts) > settings.PASSWORD_RESET_TIMEOUT`. A
	// timestamp ahead of now is not refused (Django does not either); it is under the
	// HMAC, so only someone holding the secret could make one.
	nowSec := resetSeconds(now)
	age := nowSec - ts
	if age > nowSec {
		// ts >= 0, so the subtraction wrapped: the true age is below math.MinInt64,
		// i.e. not above any timeout.
		return true
	}
	return age <= timeoutSeconds(r.Timeout)
}

// timeoutSeconds is floor(timeout) in seconds: for a whole number of seconds d,
// d > timeout exactly when d > floor(timeout), matching Python's int-vs-float compare
// for a fractional PASSWORD_RESET_TIMEOUT.
func timeoutSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second < 0 {
		s--
	}
	return s
}
