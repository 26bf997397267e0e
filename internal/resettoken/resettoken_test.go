package resettoken

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testResetSecret is the SECRET_KEY the Django vectors below were made with.
var testResetSecret = []byte("restauth-test-secret-0123456789")

// resetAt is the instant whose _num_seconds is ts, plus frac (which int() truncates).
func resetAt(ts int64, frac time.Duration) time.Time {
	return resetEpoch.Add(time.Duration(ts)*time.Second + frac)
}

func TestEncodeBase36(t *testing.T) {
	t.Parallel()
	// Outputs of django.utils.http.int_to_base36 (Django 4.2.21).
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{35, "z"},
		{36, "10"},
		{1295, "zz"},
		{1296, "100"},
		{2176782335, "zzzzzz"},
		{math.MaxInt64, "1y2p0ij32e8e7"},
		// Django raises ValueError; "" is refused by DecodeBase36.
		{-1, ""},
		{math.MinInt64, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, EncodeBase36(tt.in), "EncodeBase36(%d)", tt.in)
	}
}

func TestDecodeBase36(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"z", 35},
		{"10", 36},
		{"zzzzzz", 2176782335},
		{"00z", 35}, // int("00z", 36) == 35 in Django too
		{"0000000000000", 0},
		{"1y2p0ij32e8e7", math.MaxInt64},
	}
	for _, tt := range valid {
		got, err := DecodeBase36(tt.in)
		require.NoError(t, err, "DecodeBase36(%q)", tt.in)
		assert.Equal(t, tt.want, got, "DecodeBase36(%q)", tt.in)
	}

	invalid := []struct {
		name, in string
	}{
		{"empty", ""},
		{"upper case", "Z"},
		{"mixed case", "1Y2p"},
		{"leading space", " z"},
		{"trailing newline", "z\n"},
		{"minus", "-z"},
		{"plus", "+z"},
		{"underscore", "1_0"},
		{"dash inside", "1-0"},
		{"non-ASCII", "é"},
		{"NUL", "1\x00"},
		{"MaxInt64+1", "1y2p0ij32e8e8"},
		{"13 z overflow uint64", "zzzzzzzzzzzzz"},
		{"14 chars", "00000000000001"},
		{"very long", strings.Repeat("1", 10000)},
	}
	for _, tt := range invalid {
		_, err := DecodeBase36(tt.in)
		assert.ErrorIs(t, err, ErrBase36, tt.name)
	}
}

func TestBase36RoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{0, 1, 9, 10, 35, 36, 12345, 755710000, 1 << 32, 1<<62 + 12345, math.MaxInt64 - 1, math.MaxInt64} {
		got, err := DecodeBase36(EncodeBase36(n))
		require.NoError(t, err)
		assert.Equal(t, n, got)
	}
}

// djangoResetVectors were produced with Django 4.2.21 and django-allauth 0.51.0 (whose
// EmailAwarePasswordResetTokenGenerator._make_hash_value is the same as 65.2's), with
// real auth.User and account.EmailAddress rows in SQLite, SECRET_KEY=testResetSecret:
//
//	PasswordResetTokenGenerator()._make_token_with_timestamp(user, ts, SECRET_KEY)        -> plain
//	EmailAwarePasswordResetTokenGenerator()._make_token_with_timestamp(user, ts, SECRET_KEY) -> allauth
//	EmailAwarePasswordResetTokenGenerator()._make_hash_value(user, ts)                    -> hashValue
//
// addresses are the user's EmailAddress rows afterwards (allauth's
// sync_user_email_addresses adds user.email when it is missing).
var djangoResetVectors = []struct {
	name      string
	user      User
	addresses []string
	ts        int64
	plain     string
	allauth   string
	hashValue string
}{
	{
		name: "never logged in, no email",
		user: User{ID: 1, PasswordHash: "pbkdf2_sha256$600000$salt$hash="},
		ts:   0, plain: "0-a02a2b60bf9fb24e11901e935ec7d11e", allauth: "0-a02a2b60bf9fb24e11901e935ec7d11e",
		hashValue: "1pbkdf2_sha256$600000$salt$hash=0",
	},
	{
		name: "pk 35 with email",
		user: User{
			ID: 35, PasswordHash: "pbkdf2_sha256$720000$abcdef$Zm9vYmFy", Email: "alice@example.com",
			LastLogin: time.Date(2024, 11, 30, 15, 30, 0, 123456000, time.UTC),
		},
		addresses: []string{"alice@example.com"},
		ts:        755710000, plain: "chxhkg-0b876f8f2d436e47f1c58c7762cdb18d", allauth: "chxhkg-970e27f1c9ec982e857837d7f3f8a21a",
		hashValue: "35pbkdf2_sha256$720000$abcdef$Zm9vYmFy2024-11-30 15:30:00755710000alice@example.comalice@example.com",
	},
	{
		name: "unusable password",
		user: User{
			ID: 42, PasswordHash: "!unusable0123456789", Email: "bob@example.org",
			LastLogin: time.Date(2003, 2, 3, 4, 5, 6, 0, time.UTC),
		},
		addresses: []string{"bob@example.org"},
		ts:        86400, plain: "1uo0-9bd0040416365fe2c2a7677ca32ff5ec", allauth: "1uo0-77d1884df0e0e5ac7fa448824e56222e",
		hashValue: "42!unusable01234567892003-02-03 04:05:0686400bob@example.orgbob@example.org",
	},
	{
		name: "two extra addresses, one differing only in case",
		user: User{
			ID: 123456789, PasswordHash: "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA", Email: "carol@example.com",
			LastLogin: time.Date(2025, 1, 1, 0, 0, 0, 999999000, time.UTC),
		},
		addresses: []string{"Carol@Example.com", "zed@example.com"},
		ts:        788918400, plain: "d1p9c0-47be05a00de93386765ebf5f9becae56", allauth: "d1p9c0-c6c681feefaabf99c17527ae7bf33494",
		hashValue: "123456789argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA2025-01-01 00:00:00788918400carol@example.comCarol@Example.com|carol@example.com|zed@example.com",
	},
	{
		name: "addresses but empty user email, last login before the epoch",
		user: User{
			ID: 7, PasswordHash: "md5$x$y",
			LastLogin: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
		},
		addresses: []string{"a@x.io", "b@x.io"},
		ts:        2176782335, plain: "zzzzzz-dad1b059d2b51dc663fb2d35b9ee4f0d", allauth: "zzzzzz-735a329104d5493eaf78c50014445a98",
		hashValue: "7md5$x$y1999-12-31 23:59:592176782335a@x.io|b@x.io",
	},
	{
		name: "non-ASCII addresses, seven-digit timestamp",
		user: User{
			ID: 9000, PasswordHash: "pbkdf2_sha256$1$s$h", Email: "ünï@exämple.com",
			LastLogin: time.Date(2010, 6, 7, 8, 9, 10, 5000, time.UTC),
		},
		addresses: []string{"Ünï@exämple.com", "ünï@exämple.com"},
		ts:        2176782336, plain: "1000000-da2d7b402a55d8d7d8a7c4805a9a377b", allauth: "1000000-75e50c1d47c828930b49661afd2d1b7a",
		hashValue: "9000pbkdf2_sha256$1$s$h2010-06-07 08:09:102176782336ünï@exämple.comÜnï@exämple.com|ünï@exämple.com",
	},
}

func TestResetTokenDjangoVectors(t *testing.T) {
	t.Parallel()
	r := Generator{Secret: testResetSecret, Timeout: 72 * time.Hour}
	for _, tt := range djangoResetVectors {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := tt.user
			assert.Equal(t, tt.hashValue, resetHashValue(&u, tt.addresses, tt.ts))
			assert.Equal(t, tt.plain, r.tokenForHashValue(djangoResetHashValue(&u, tt.ts), tt.ts), "plain Django token")
			assert.Equal(t, tt.allauth, r.tokenWithTimestamp(&u, tt.addresses, tt.ts), "allauth token")

			// make at any instant within the second gives the same token (int() truncates).
			now := resetAt(tt.ts, 999*time.Millisecond)
			assert.Equal(t, tt.allauth, r.Make(&u, tt.addresses, now))
			assert.True(t, r.Check(&u, tt.addresses, tt.allauth, now))

			// The order of the addresses, and whether User.Email is among them (allauth
			// syncs it in), make no difference: it is a sorted set.
			var others []string
			for _, a := range tt.addresses {
				if a != u.Email {
					others = append(others, a)
				}
			}
			reversed := append([]string(nil), others...)
			for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
				reversed[i], reversed[j] = reversed[j], reversed[i]
			}
			assert.True(t, r.Check(&u, reversed, tt.allauth, now), "addresses reordered, user e-mail not listed")
			assert.True(t, r.Check(&u, append(reversed, tt.addresses...), tt.allauth, now), "duplicates")

			// A plain Django token is not an allauth token (unless the suffix is empty).
			if tt.plain != tt.allauth {
				assert.False(t, r.Check(&u, tt.addresses, tt.plain, now))
			}
		})
	}
}

func TestResetTokenInvalidation(t *testing.T) {
	t.Parallel()
	r := Generator{Secret: testResetSecret, Timeout: 72 * time.Hour}
	now := time.Date(2024, 12, 1, 10, 0, 0, 0, time.UTC)
	base := User{
		ID: 35, PasswordHash: "pbkdf2_sha256$720000$abcdef$Zm9vYmFy",
		Email: "alice@example.com", LastLogin: time.Date(2024, 11, 30, 15, 30, 0, 123456000, time.UTC),
	}
	baseEmails := []string{"alice@example.com", "alice@work.example"}
	token := r.Make(&base, baseEmails, now)
	require.True(t, r.Check(&base, baseEmails, token, now))

	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		name   string
		change func(u *User, emails []string) []string
		valid  bool
	}{
		{"password hash changes", func(u *User, e []string) []string { u.PasswordHash += "x"; return e }, false},
		{"password made unusable", func(u *User, e []string) []string { u.PasswordHash = "!" + u.PasswordHash; return e }, false},
		{"last login changes", func(u *User, e []string) []string { u.LastLogin = now; return e }, false},
		{"last login one second later", func(u *User, e []string) []string { u.LastLogin = u.LastLogin.Add(time.Second); return e }, false},
		{"last login cleared", func(u *User, e []string) []string { u.LastLogin = time.Time{}; return e }, false},
		{"user e-mail changes", func(u *User, e []string) []string { u.Email = "alice@work.example"; return e }, false},
		{"user e-mail cleared", func(u *User, e []string) []string { u.Email = ""; return e }, false},
		{"user e-mail case changes", func(u *User, e []string) []string { u.Email = "Alice@example.com"; return e }, false},
		{"address added", func(u *User, e []string) []string { return append(e, "alice@new.example") }, false},
		{"address removed", func(u *User, e []string) []string { return e[:1] }, false},
		{"address case changes", func(u *User, e []string) []string { return []string{e[0], "Alice@work.example"} }, false},
		{"pk changes", func(u *User, e []string) []string { u.ID = 36; return e }, false},
		// Django drops microseconds (replace(microsecond=0)) and tzinfo after reading UTC
		// from the database: neither the fraction nor the zone of the same instant matters.
		{"last login sub-second differs", func(u *User, e []string) []string { u.LastLogin = u.LastLogin.Truncate(time.Second); return e }, true},
		{"last login in another zone", func(u *User, e []string) []string { u.LastLogin = u.LastLogin.In(paris); return e }, true},
		{"user e-mail dropped from the list", func(u *User, e []string) []string { return e[1:] }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := base
			emails := tt.change(&u, append([]string(nil), baseEmails...))
			assert.Equal(t, tt.valid, r.Check(&u, emails, token, now))
		})
	}

	t.Run("other secret", func(t *testing.T) {
		t.Parallel()
		u := base
		other := Generator{Secret: []byte("another-secret"), Timeout: r.Timeout}
		assert.False(t, other.Check(&u, baseEmails, token, now))
	})
}

func TestResetTokenExpiry(t *testing.T) {
	t.Parallel()
	// Boundaries checked against Django 4.2.21's check_token with
	// PASSWORD_RESET_TIMEOUT=259200 and a patched _now: valid at +259200 and +259200.999999
	// seconds, invalid at +259201; a token from the future is accepted.
	r := Generator{Secret: testResetSecret, Timeout: 259200 * time.Second}
	u := &User{ID: 35, PasswordHash: "p", Email: "e@x"}
	const ts = 755710000
	made := resetAt(ts, 250*time.Millisecond)
	token := r.Make(u, nil, made)
	require.True(t, strings.HasPrefix(token, "chxhkg-"), token)

	tests := []struct {
		name  string
		r     Generator
		now   time.Time
		valid bool
	}{
		{"same instant", r, made, true},
		{"start of the same second", r, resetAt(ts, 0), true},
		{"exactly the timeout", r, resetAt(ts+259200, 0), true},
		{"last microsecond of the timeout second", r, resetAt(ts+259200, 999999*time.Microsecond), true},
		{"one second past the timeout", r, resetAt(ts+259201, 0), false},
		{"a year later", r, made.AddDate(1, 0, 0), false},
		{"made in the future", r, resetAt(ts-100000, 0), true},
		{"now before 2001", r, time.Date(1990, 1, 1, 0, 0, 0, 500, time.UTC), true},
		{"zero timeout, same second", Generator{Secret: r.Secret}, resetAt(ts, 900*time.Millisecond), true},
		{"zero timeout, next second", Generator{Secret: r.Secret}, resetAt(ts+1, 0), false},
		// Python compares the int age with a float timeout: 1 > 0.5 and 0 > 0.5 is false.
		{"fractional timeout, age 0", Generator{Secret: r.Secret, Timeout: 500 * time.Millisecond}, resetAt(ts, 0), true},
		{"fractional timeout, age 1", Generator{Secret: r.Secret, Timeout: 500 * time.Millisecond}, resetAt(ts+1, 0), false},
		{"fractional timeout 1.5, age 1", Generator{Secret: r.Secret, Timeout: 1500 * time.Millisecond}, resetAt(ts+1, 0), true},
		// 0 > -1: a negative PASSWORD_RESET_TIMEOUT refuses even a fresh token.
		{"negative timeout", Generator{Secret: r.Secret, Timeout: -time.Second}, resetAt(ts, 0), false},
		{"negative fractional timeout, token from the future", Generator{Secret: r.Secret, Timeout: -500 * time.Millisecond}, resetAt(ts-1, 0), true},
		{"negative fractional timeout", Generator{Secret: r.Secret, Timeout: -500 * time.Millisecond}, resetAt(ts, 0), false},
		{"far past clock", r, time.Date(-100000000, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"earliest clock", r, time.Unix(math.MinInt64, 0), true},
		{"latest clock", r, time.Unix(math.MaxInt64-62135596800, 999999999), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.valid, tt.r.Check(u, nil, token, tt.now), tt.name)
	}
}

func TestResetSeconds(t *testing.T) {
	t.Parallel()
	// _num_seconds: int((dt - datetime(2001, 1, 1)).total_seconds()), truncated toward zero.
	tests := []struct {
		at   time.Time
		want int64
	}{
		{resetEpoch, 0},
		{resetEpoch.Add(999 * time.Millisecond), 0},
		{resetEpoch.Add(-999 * time.Millisecond), 0},
		{resetEpoch.Add(-time.Second), -1},
		{time.Date(2024, 11, 30, 15, 30, 0, 0, time.UTC), 754673400},
		{time.Date(2024, 11, 30, 16, 30, 0, 0, time.FixedZone("CET", 3600)), 754673400},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, resetSeconds(tt.at), tt.at.String())
	}
}

func TestResetTokenBeforeEpochIsUnusable(t *testing.T) {
	t.Parallel()
	r := Generator{Secret: testResetSecret, Timeout: time.Hour}
	u := &User{ID: 1, PasswordHash: "p"}
	now := time.Date(2000, 6, 1, 0, 0, 0, 0, time.UTC)
	token := r.Make(u, nil, now)
	assert.True(t, strings.HasPrefix(token, "-"), token)
	assert.False(t, r.Check(u, nil, token, now))
}

func TestResetTokenTampered(t *testing.T) {
	t.Parallel()
	r := Generator{Secret: testResetSecret, Timeout: 72 * time.Hour}
	u := &User{ID: 35, PasswordHash: "pbkdf2_sha256$720000$abcdef$Zm9vYmFy", Email: "alice@example.com"}
	emails := []string{"alice@example.com"}
	const ts = 755710000
	now := resetAt(ts, 0)
	token := r.Make(u, emails, now)
	require.True(t, r.Check(u, emails, token, now))
	tsText, hash, _ := strings.Cut(token, "-")

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	tests := []struct{ name, token string }{
		{"later timestamp", EncodeBase36(ts+1) + "-" + hash},
		{"earlier timestamp", EncodeBase36(ts-1) + "-" + hash},
		{"timestamp with a leading zero", "0" + tsText + "-" + hash},
		{"upper-case timestamp", strings.ToUpper(tsText) + "-" + hash},
		{"first hash digit", tsText + "-" + flip(hash, 0)},
		{"last hash digit", tsText + "-" + flip(hash, len(hash)-1)},
		{"upper-case hash", tsText + "-" + strings.ToUpper(hash)},
		{"hash truncated", tsText + "-" + hash[:len(hash)-1]},
		{"hash extended", token + "0"},
		{"hash missing", tsText + "-"},
		{"full hex digest", tsText + "-" + hash + hash},
		{"leading space", " " + token},
		{"trailing newline", token + "\n"},
	}
	for _, tt := range tests {
		assert.False(t, r.Check(u, emails, tt.token, now), tt.name)
	}
}

func TestResetTokenMalformed(t *testing.T) {
	t.Parallel()
	r := Generator{Secret: testResetSecret, Timeout: 72 * time.Hour}
	u := &User{ID: 1, PasswordHash: "p"}
	now := resetAt(755710000, 0)
	valid := r.Make(u, nil, now)
	require.True(t, r.Check(u, nil, valid, now))

	for _, token := range []string{
		"", "-", "--", "abc", "a-b-c", valid + "-", "-" + valid, strings.Replace(valid, "-", "--", 1),
		"zzzzzzzzzzzzzz-0123", "zzzzzzzzzzzzz-0123", "1y2p0ij32e8e8-00", "-1-abc", "+1-abc",
		"é-é", "\x00-\x00", strings.Repeat("a", 1<<16), strings.Repeat("-", 1<<10),
		"chxhkg_0b876f8f2d436e47f1c58c7762cdb18d", "chxhkg 0b876f8f2d436e47f1c58c7762cdb18d",
	} {
		assert.NotPanics(t, func() { assert.False(t, r.Check(u, nil, token, now), "%q", token) })
	}
	// `if not (user and token)`.
	assert.False(t, r.Check(nil, nil, valid, now))
	// A zero-value Generator (no secret, zero timeout) still works without panicking.
	assert.NotPanics(t, func() { _ = Generator{}.Check(u, nil, valid, now) })
}

func FuzzCheckResetToken(f *testing.F) {
	r := Generator{Secret: testResetSecret, Timeout: 72 * time.Hour}
	u := &User{ID: 35, PasswordHash: "pbkdf2_sha256$720000$abcdef$Zm9vYmFy", Email: "alice@example.com"}
	emails := []string{"alice@example.com", "b@x.io"}
	now := resetAt(755710000, 0)
	f.Add(r.Make(u, emails, now))
	for _, v := range djangoResetVectors {
		f.Add(v.allauth)
		f.Add(v.plain)
	}
	for _, s := range []string{"", "-", "a-b-c", "zzzzzzzzzzzzzz-0", "1y2p0ij32e8e8-0", "Z-0", "0-", "-0", "\xff-\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		ok := r.Check(u, emails, token, now)
		if !ok {
			return
		}
		// Anything accepted must be exactly the token make issues for its timestamp,
		// within the timeout.
		tsText, _, found := strings.Cut(token, "-")
		require.True(t, found)
		ts, err := DecodeBase36(tsText)
		require.NoError(t, err)
		require.Equal(t, r.tokenWithTimestamp(u, emails, ts), token)
		require.LessOrEqual(t, resetSeconds(now)-ts, int64(72*3600))
	})
}
