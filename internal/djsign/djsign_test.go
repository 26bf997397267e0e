package djsign

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testSigningSecret is the SECRET_KEY the Django vectors below were made with.
var testSigningSecret = []byte("restauth-test-secret-0123456789")

// djangoSigningVectors were produced with Django 4.2.21:
//
//	time.time = lambda: unix + 0.75
//	signing.dumps(obj, salt=salt)   # key=None -> SECRET_KEY
var djangoSigningVectors = []struct {
	obj  int64
	salt string
	unix int64
	key  string
}{
	{42, "account", 1732980600, "NDI:1tHPQ0:CBKOQ9bDcnIR3FftsiSGa9DVl-tc5duZdTLNrGoZI_Q"},
	{1, "account", 0, "MQ:0:LgEMmChWnl78MuR-gvEi6cD__c3VpHq25AmILKpnmPY"},
	{9007199254740993, "account", 1700000000, "OTAwNzE5OTI1NDc0MDk5Mw:1r31eq:9mxhIrYwh4UoEQMA6z2YrF_o0wQDQOLQT5COdxrqr10"},
	{42, "other", 1732980600, "NDI:1tHPQ0:ehjOSRJIEuDGEhY8QRoIi_Vm_yHboCuxIhxyVIOK-SA"},
	{-7, "account", 1234567890, "LTc:1LY7VK:OhfY3vMJZ0rfluW-QKd9NOuXnrdvbaS9PG3HKw4u0rw"},
	{123456, "account", 4102444800, "MTIzNDU2:4TdRIW:2yEA1sgATyjLNDuL0aoXjrNim3Avw0RYK_QwQrOU_PI"},
}

func TestSaltedHMACDjangoVector(t *testing.T) {
	t.Parallel()
	// salted_hmac("accountsigner", "NDI:1tHPQ0", SECRET_KEY, algorithm="sha256").hexdigest()
	got := hex.EncodeToString(SaltedHMAC("accountsigner", testSigningSecret, "NDI:1tHPQ0"))
	assert.Equal(t, "08128e43d6c3727211dc57edb224866bd0d597eb5ce5db997532cdac6a1923f4", got)
}

func TestSignValueDjangoVectors(t *testing.T) {
	t.Parallel()
	for _, tt := range djangoSigningVectors {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			at := time.Unix(tt.unix, 750_000_000)
			value := jsonInt(tt.obj)
			assert.Equal(t, tt.key, Sign(testSigningSecret, tt.salt, value, at))

			got, err := Unsign(testSigningSecret, tt.salt, tt.key, 72*time.Hour, at)
			require.NoError(t, err)
			assert.Equal(t, value, got)

			_, err = ParseConfirmationKey(testSigningSecret, tt.key, 72*time.Hour, at)
			if tt.salt == confirmationSalt {
				// allauth's bare-pk keys name no user (security issue #16 finding 7).
				assert.ErrorIs(t, err, ErrSignatureMalformed, "a bare address pk is refused")
			} else {
				assert.ErrorIs(t, err, ErrBadSignature, "signed with another salt")
			}
		})
	}
}

// jsonInt is json.dumps of a Python int.
func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

func TestUnsignValueExpiry(t *testing.T) {
	t.Parallel()
	// Boundaries checked against Django 4.2.21's signing.loads(max_age=259200) with a
	// patched time.time (a key signed at 1732980600.5): valid at +0, +259200 and -5
	// seconds; SignatureExpired at +259200.000001, +259200.5 and +259201.
	const signedAt = 1732980600
	key := Sign(testSigningSecret, confirmationSalt, "42", time.Unix(signedAt, 500_000_000))
	require.Equal(t, "NDI:1tHPQ0:CBKOQ9bDcnIR3FftsiSGa9DVl-tc5duZdTLNrGoZI_Q", key)
	bound := MakeConfirmationKey(testSigningSecret, 42, 7, "a@example.com", time.Unix(signedAt, 500_000_000))
	const maxAge = 259200 * time.Second
	at := func(sec int64, frac time.Duration) time.Time { return time.Unix(signedAt+sec, 0).Add(frac) }

	tests := []struct {
		name    string
		maxAge  time.Duration
		now     time.Time
		expired bool
	}{
		{"at signing", maxAge, at(0, 0), false},
		{"exactly max age", maxAge, at(259200, 0), false},
		{"a microsecond past max age", maxAge, at(259200, time.Microsecond), true},
		{"a nanosecond past max age", maxAge, at(259200, time.Nanosecond), true},
		{"half a second past", maxAge, at(259200, 500*time.Millisecond), true},
		{"a second past", maxAge, at(259201, 0), true},
		{"signed in the future", maxAge, at(-5, 0), false},
		{"fractional max age, inside", maxAge + 500*time.Millisecond, at(259200, 500*time.Millisecond), false},
		{"fractional max age, outside", maxAge + 500*time.Millisecond, at(259200, 500*time.Millisecond+1), true},
		{"zero max age, same second", 0, at(0, 0), false},
		{"zero max age, later in the second", 0, at(0, time.Millisecond), true},
		{"no limit (negative), years later", -1, at(10*365*86400, 0), false},
		{"earliest clock", maxAge, time.Unix(math.MinInt64, 0), false},
		{"latest clock", maxAge, time.Unix(math.MaxInt64-62135596800, 999999999), true},
	}
	for _, tt := range tests {
		v, err := Unsign(testSigningSecret, confirmationSalt, key, tt.maxAge, tt.now)
		c, cerr := ParseConfirmationKey(testSigningSecret, bound, tt.maxAge, tt.now)
		if tt.expired {
			assert.ErrorIs(t, err, ErrSignatureExpired, tt.name)
			assert.NotErrorIs(t, err, ErrBadSignature, tt.name)
			assert.ErrorIs(t, cerr, ErrSignatureExpired, tt.name)
		} else {
			require.NoError(t, err, tt.name)
			assert.Equal(t, "42", v, tt.name)
			require.NoError(t, cerr, tt.name)
			assert.Equal(t, int64(42), c.AddressID, tt.name)
		}
	}
}

func TestSignatureExpiredExtremeTimestamps(t *testing.T) {
	t.Parallel()
	now := time.Unix(1732980600, 0)
	assert.True(t, signatureExpired(math.MinInt64, time.Hour, now), "age overflows int64")
	assert.True(t, signatureExpired(math.MinInt64, math.MaxInt64, now))
	assert.False(t, signatureExpired(math.MaxInt64, time.Hour, now), "future")
	assert.False(t, signatureExpired(0, math.MaxInt64, now))
	assert.True(t, signatureExpired(0, time.Hour, now))
}

// signRaw signs an arbitrary already-encoded value the way Signer.sign does, to build
// keys that carry a genuine signature over content dumps never produces.
func signRaw(secret []byte, salt, v string) string {
	return v + signSep + signature(secret, salt, v)
}

func TestUnsignValueErrors(t *testing.T) {
	t.Parallel()
	now := time.Unix(1732980600, 0)
	const maxAge = 72 * time.Hour
	good := MakeConfirmationKey(testSigningSecret, 42, 7, "a@example.com", now)
	tag := addressTag(testSigningSecret, "a@example.com")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	require.Equal(t, b64(`[42,7,"`+tag+`"]`), good[:strings.Index(good, ":")], "the object is compact JSON, as json.dumps makes it")
	ts := b62Encode(1732980600)
	payload, sig := good[:strings.Index(good, ":")], good[strings.LastIndex(good, ":")+1:]
	signed := func(obj string) string { return signRaw(testSigningSecret, "account", b64(obj)+":"+ts) }

	tests := []struct {
		name   string
		secret []byte
		key    string
		want   error
	}{
		{"empty", testSigningSecret, "", ErrSignatureMalformed},
		{"no separator", testSigningSecret, payload, ErrSignatureMalformed},
		{"one separator, no signature match", testSigningSecret, payload + ":" + ts, ErrBadSignature},
		{"payload changed", testSigningSecret, "X" + good[1:], ErrBadSignature},
		{"timestamp changed", testSigningSecret, strings.Replace(good, ":"+ts+":", ":1tHPQ1:", 1), ErrBadSignature},
		{"timestamp removed", testSigningSecret, payload + ":" + sig, ErrBadSignature},
		{"signature changed", testSigningSecret, good[:len(good)-1] + string("AB"[min(1, strings.Count(good[len(good)-1:], "A"))]), ErrBadSignature},
		{"signature truncated", testSigningSecret, good[:len(good)-1], ErrBadSignature},
		{"signature with padding", testSigningSecret, good + "=", ErrBadSignature},
		{"signature empty", testSigningSecret, good[:strings.LastIndex(good, ":")+1], ErrBadSignature},
		{"wrong secret", []byte("another-secret"), good, ErrBadSignature},
		{"empty secret", nil, good, ErrBadSignature},
		{"signed with another salt", testSigningSecret, djangoSigningVectors[3].key, ErrBadSignature},
		{"trailing newline", testSigningSecret, good + "\n", ErrBadSignature},
		{"leading space", testSigningSecret, " " + good, ErrBadSignature},
		// Genuine signatures over values MakeConfirmationKey never makes.
		{"signed, no timestamp", testSigningSecret, signRaw(testSigningSecret, "account", payload), ErrSignatureMalformed},
		{"signed, empty timestamp", testSigningSecret, signRaw(testSigningSecret, "account", payload+":"), ErrSignatureMalformed},
		{"signed, bad timestamp digit", testSigningSecret, signRaw(testSigningSecret, "account", payload+":1t*PQ0"), ErrSignatureMalformed},
		{"signed, timestamp overflows", testSigningSecret, signRaw(testSigningSecret, "account", payload+":zzzzzzzzzzz"), ErrSignatureMalformed},
		{"signed, payload not base64", testSigningSecret, signRaw(testSigningSecret, "account", "N@I:"+ts), ErrSignatureMalformed},
		{"signed, padded payload", testSigningSecret, signRaw(testSigningSecret, "account", "NDI=:"+ts), ErrSignatureMalformed},
		{"signed, compressed payload", testSigningSecret, signRaw(testSigningSecret, "account", ".eJwzMQIAAJwAZw:"+ts), ErrSignatureMalformed},
		{"signed, allauth's bare pk", testSigningSecret, signed(`42`), ErrSignatureMalformed},
		{"signed, JSON string", testSigningSecret, signed(`"42"`), ErrSignatureMalformed},
		{"signed, no tag", testSigningSecret, signed(`[42,7]`), ErrSignatureMalformed},
		{"signed, extra element", testSigningSecret, signed(`[42,7,"` + tag + `",1]`), ErrSignatureMalformed},
		{"signed, short tag", testSigningSecret, signed(`[42,7,"` + tag[:15] + `"]`), ErrSignatureMalformed},
		{"signed, upper-case tag", testSigningSecret, signed(`[42,7,"` + strings.ToUpper(tag) + `"]`), ErrSignatureMalformed},
		{"signed, leading zero", testSigningSecret, signed(`[042,7,"` + tag + `"]`), ErrSignatureMalformed},
		{"signed, plus sign", testSigningSecret, signed(`[42,+7,"` + tag + `"]`), ErrSignatureMalformed},
		{"signed, spaces", testSigningSecret, signed(`[42, 7, "` + tag + `"]`), ErrSignatureMalformed},
		{"signed, float", testSigningSecret, signed(`[42.0,7,"` + tag + `"]`), ErrSignatureMalformed},
		{"signed, beyond int64", testSigningSecret, signed(`[9223372036854775808,7,"` + tag + `"]`), ErrSignatureMalformed},
		{"signed, object", testSigningSecret, signed(`{"a":[1,2]}`), ErrSignatureMalformed},
		{"signed, empty payload", testSigningSecret, signRaw(testSigningSecret, "account", ":"+ts), ErrSignatureMalformed},
	}
	for _, tt := range tests {
		c, err := ParseConfirmationKey(tt.secret, tt.key, maxAge, now)
		assert.ErrorIs(t, err, tt.want, tt.name)
		assert.Zero(t, c, tt.name)
		for _, other := range []error{ErrBadSignature, ErrSignatureExpired, ErrSignatureMalformed} {
			if other != tt.want {
				assert.NotErrorIs(t, err, other, tt.name)
			}
		}
	}

	// Leading zeros in the timestamp are accepted, as b62_decode does.
	c, err := ParseConfirmationKey(testSigningSecret, signRaw(testSigningSecret, "account", payload+":00"+ts), maxAge, now)
	require.NoError(t, err)
	assert.Equal(t, int64(42), c.AddressID)
	// Negative and extreme ids survive the round trip.
	for _, n := range []int64{0, -1, math.MaxInt64, math.MinInt64} {
		c, err := ParseConfirmationKey(testSigningSecret, MakeConfirmationKey(testSigningSecret, n, n, "a@example.com", now), maxAge, now)
		require.NoError(t, err)
		assert.Equal(t, n, c.AddressID)
		assert.True(t, c.Matches(testSigningSecret, n, "a@example.com"))
	}
}

// TestConfirmationKeyBindsUserAndAddress is security issue #16 finding 7: a key names an
// address of one user with one text, not just an address id, so after ids are reused (a
// restore that rewinds them) an old key does not verify somebody else's address.
func TestConfirmationKeyBindsUserAndAddress(t *testing.T) {
	t.Parallel()
	now := time.Unix(1732980600, 0)
	c, err := ParseConfirmationKey(testSigningSecret, MakeConfirmationKey(testSigningSecret, 42, 7, "a@example.com", now), time.Hour, now)
	require.NoError(t, err)
	assert.Equal(t, int64(42), c.AddressID)
	assert.Equal(t, int64(7), c.UserID)
	assert.True(t, c.Matches(testSigningSecret, 7, "a@example.com"))
	assert.False(t, c.Matches(testSigningSecret, 8, "a@example.com"), "another user")
	assert.False(t, c.Matches(testSigningSecret, 7, "b@example.com"), "another address text")
	assert.False(t, c.Matches(testSigningSecret, 7, "A@example.com"), "the text as stored, exactly")
	assert.False(t, c.Matches([]byte("another-secret"), 7, "a@example.com"), "the tag is keyed")
	assert.NotContains(t, MakeConfirmationKey(testSigningSecret, 42, 7, "a@example.com", now), base64.RawURLEncoding.EncodeToString([]byte("example")), "the key does not carry the address")
}

func TestUnsignValueArbitraryJSON(t *testing.T) {
	t.Parallel()
	now := time.Unix(1732980600, 0)
	for _, v := range []string{`"hello"`, `{"a":[1,2]}`, `null`, ``, "\x00\xff"} {
		signed := Sign(testSigningSecret, "some.salt", v, now)
		got, err := Unsign(testSigningSecret, "some.salt", signed, -1, now)
		require.NoError(t, err)
		assert.Equal(t, v, got)
		_, err = Unsign(testSigningSecret, "some.salt2", signed, -1, now)
		assert.ErrorIs(t, err, ErrBadSignature)
	}
	// signing.dumps("hello", salt="some.salt") starts with urlsafe_b64 of '"hello"'.
	assert.True(t, strings.HasPrefix(Sign(testSigningSecret, "s", `"hello"`, now), "ImhlbGxvIg:"))
}

func TestBase62(t *testing.T) {
	t.Parallel()
	// Outputs of django.core.signing.b62_encode (Django 4.2.21).
	tests := []struct {
		n int64
		s string
	}{
		{0, "0"},
		{1, "1"},
		{61, "z"},
		{62, "10"},
		{-1, "-1"},
		{-62, "-10"},
		{1732980600, "1tHPQ0"},
		{4102444800, "4TdRIW"},
		{math.MaxInt64, "AzL8n0Y58m7"},
		{math.MinInt64, "-AzL8n0Y58m8"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.s, b62Encode(tt.n), "b62Encode(%d)", tt.n)
		got, err := b62Decode(tt.s)
		require.NoError(t, err, tt.s)
		assert.Equal(t, tt.n, got, "b62Decode(%q)", tt.s)
	}

	// b62_decode accepts leading zeros (and "-0").
	for s, want := range map[string]int64{"0000001": 1, "-0": 0, "00": 0, "-01": -1} {
		got, err := b62Decode(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}

	for _, s := range []string{"", "-", "--1", "+1", " 1", "1 ", "!", "1.0", "é", "AzL8n0Y58m8", "-AzL8n0Y58m9", "zzzzzzzzzzz", "000000000001", strings.Repeat("1", 1000)} {
		_, err := b62Decode(s)
		assert.ErrorIs(t, err, ErrSignatureMalformed, "b62Decode(%q)", s)
	}

	for _, n := range []int64{2, 3843, 3844, 1 << 40, -(1 << 40), math.MaxInt64 - 1, math.MinInt64 + 1} {
		got, err := b62Decode(b62Encode(n))
		require.NoError(t, err)
		assert.Equal(t, n, got)
	}
}

func TestUnixSeconds(t *testing.T) {
	t.Parallel()
	// int(time.time()) truncates toward zero.
	assert.Equal(t, int64(1732980600), unixSeconds(time.Unix(1732980600, 999_999_999)))
	assert.Equal(t, int64(0), unixSeconds(time.Unix(0, -1)))
	assert.Equal(t, int64(-1), unixSeconds(time.Unix(-1, 0)))
	assert.Equal(t, int64(-1), unixSeconds(time.Unix(-2, 1)))
}

func FuzzParseConfirmationKey(f *testing.F) {
	now := time.Unix(1732980600, 0)
	const maxAge = 72 * time.Hour
	for _, v := range djangoSigningVectors {
		f.Add(v.key)
	}
	f.Add(MakeConfirmationKey(testSigningSecret, 42, 7, "a@example.com", now))
	f.Add(signRaw(testSigningSecret, "account", "NDI"))
	f.Add(signRaw(testSigningSecret, "account", ".eJwzMQIAAJwAZw:1tHPQ0"))
	for _, s := range []string{"", ":", "::", ":::", "NDI", "NDI:1tHPQ0", "NDI:1tHPQ0:", "NDI:-:x", "\xff:\xfe:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		c, err := ParseConfirmationKey(testSigningSecret, key, maxAge, now)
		if err != nil {
			require.Zero(t, c)
			require.True(t, err == ErrBadSignature || err == ErrSignatureExpired || err == ErrSignatureMalformed, "unexpected error %v", err)
			return
		}
		// An accepted key carries a genuine signature over the canonical JSON of its object.
		i := strings.LastIndex(key, ":")
		j := strings.LastIndex(key[:i], ":")
		obj := "[" + jsonInt(c.AddressID) + "," + jsonInt(c.UserID) + `,"` + c.emailTag + `"]`
		require.Equal(t, base64.RawURLEncoding.EncodeToString([]byte(obj)), key[:j])
		require.Equal(t, signature(testSigningSecret, confirmationSalt, key[:i]), key[i+1:])
	})
}
