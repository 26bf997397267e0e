package hashers

import (
	"context"
	"encoding/base64"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cheapConfig keeps hashing fast in tests; the algorithm's own code paths are the same
// at any cost.
func cheapConfig(algorithm string) Config {
	return Config{
		Algorithm:        algorithm,
		Argon2Time:       1,
		Argon2MemoryKiB:  8,
		Argon2Threads:    1,
		PBKDF2Iterations: 1,
	}
}

// defaultPBKDF2Iterations is restauth's default (Django 4.2's).
const defaultPBKDF2Iterations = 600000

// withDefaults fills zero fields with restauth's documented PasswordConfig defaults,
// so the rows below read as the configurations restauth builds.
func withDefaults(cfg Config) Config {
	if cfg.Algorithm == "" {
		cfg.Algorithm = Argon2
	}
	if cfg.Argon2Time == 0 {
		cfg.Argon2Time = 2
	}
	if cfg.Argon2MemoryKiB == 0 {
		cfg.Argon2MemoryKiB = 19456
	}
	if cfg.Argon2Threads == 0 {
		cfg.Argon2Threads = 1
	}
	if cfg.PBKDF2Iterations == 0 {
		cfg.PBKDF2Iterations = defaultPBKDF2Iterations
	}
	if cfg.MaxConcurrentHashes == 0 {
		cfg.MaxConcurrentHashes = runtime.NumCPU()
	}
	if cfg.MaxQueuedHashes == 0 {
		cfg.MaxQueuedHashes = 4 * cfg.MaxConcurrentHashes
	}
	return cfg
}

func newTestHasher(t testing.TB, cfg Config) *Hasher {
	t.Helper()
	h, err := New(withDefaults(cfg))
	require.NoError(t, err)
	return h
}

// djangoPasswordVectors were produced by Django itself: Debian's python3-django 3.2.25
// with python3-argon2 21.1.0 and python3-bcrypt 3.2.2, through each hasher's encode() with
// a fresh Django salt (subclassing a hasher to lower its cost where noted), and each was
// checked with Django's verify() — right password true, the wrong ones below false.
//
// Django 3.2 has no ScryptPasswordHasher (it arrived in 4.0), so the scrypt vectors were
// computed with Python's hashlib.scrypt(password.encode(), salt=salt.encode(), n, r, p,
// maxmem=0, dklen=64) and formatted exactly as Django 4.x's ScryptPasswordHasher.encode
// does: "scrypt$%d$%s$%d$%d$%s" % (n, salt, r, p, base64.b64encode(hash)).
var djangoPasswordVectors = []struct {
	name, encoded, password string
	// alsoMatches are other passwords Django accepts for this hash.
	alsoMatches []string
	// slow vectors use Django's real default cost (see the skip rule in the test).
	slow bool
}{
	{name: "pbkdf2_sha256 django 3.2 default", slow: true, encoded: "pbkdf2_sha256$260000$XdVoWIx2L4Ar6lZZW4uCh6$tsPtUJGiJZ/9ttXgMtqiLGuTLG3OYZPEFUc/fp00n/g=", password: "correct horse battery staple"},
	{name: "pbkdf2_sha256 1000 non-ascii", encoded: "pbkdf2_sha256$1000$HNgVdh8NDgvykJEgqg4w34$cBvdvQboc+Ly4SlNk8QUHoZMsM7W8R1fMIIs1QWnqCU=", password: "pässwörd 🔑 Ωμέγα"},
	{name: "pbkdf2_sha256 1 empty", encoded: "pbkdf2_sha256$1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=", password: ""},
	{name: "pbkdf2_sha1 10000", encoded: "pbkdf2_sha1$10000$ifeNWxA5mJPjvDP6XPleIr$TM43OufA6eaJH4iuHI4/ZGZ0Lto=", password: "hunter2"},
	{name: "argon2id django 3.2 default (m=100MiB p=8)", slow: true, encoded: "argon2$argon2id$v=19$m=102400,t=2,p=8$WW95TFVwREVwamRDa3FzM1Z2V0JRbA$485MhvILk1zb5OAMiQFpnA", password: "correct horse battery staple"},
	{name: "argon2id t1 m1024 p2 non-ascii", encoded: "argon2$argon2id$v=19$m=1024,t=1,p=2$cHpmTjhZM1ZyNkM2TlpEdkt1cFA2Qg$6hK6KHh5JHMVvQiJMd3FiA", password: "pässwörd 🔑 Ωμέγα"},
	{name: "argon2i t3 m256 p1", encoded: "argon2$argon2i$v=19$m=256,t=3,p=1$VTZOTnozeWJxVjU4dWVXMkZoQzBzdQ$T9dY3C498TPnXr9VxXBnmw", password: "hunter2"},
	// argon2-cffi's own PasswordHasher output (16 random salt bytes, 16-byte hash) behind
	// Django's prefix, as found after importing hashes made outside Django.
	{name: "argon2id argon2-cffi native salt", encoded: "argon2$argon2id$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ", password: "hunter2"},
	{name: "bcrypt_sha256 django default rounds 12", slow: true, encoded: "bcrypt_sha256$$2b$12$6zygVLp/59CLYO260ucQ3.bsaZQrH6RkMMtRpM9.9UbHWrgBnNtei", password: "correct horse battery staple"},
	// bcrypt_sha256 pre-hashes, so the 72-byte prefix alone must not match.
	{name: "bcrypt_sha256 rounds 4 long", encoded: "bcrypt_sha256$$2b$04$nlgyrc.Acl.LnjrFCMqErOYnyzAnfdDewEeCym9J5v60RglrooYvm", password: strings.Repeat("x", 72) + "tail-that-bcrypt-would-truncate"},
	// Plain bcrypt ignores everything after 72 bytes, in python-bcrypt and so in Django.
	{name: "bcrypt rounds 5 long", encoded: "bcrypt$$2b$05$yxcSqr89VxpCozW01CvFzuuytuxvRZS2nAp605pP/UH9VAn1lpEF2", password: strings.Repeat("x", 72) + "tail-that-bcrypt-would-truncate",
		alsoMatches: []string{strings.Repeat("x", 72), strings.Repeat("x", 72) + "anything"}},
	{name: "bcrypt rounds 4 non-ascii", encoded: "bcrypt$$2b$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.", password: "pässwörd 🔑"},
	{name: "bcrypt 2y prefix", encoded: "bcrypt$$2y$04$KIx07bJLFogPRolMVD3AO.FDwiynxnrZrG6SpRsD0Ziw4Z8uJ6hBu", password: "hunter2"},
	{name: "bcrypt 2a prefix", encoded: "bcrypt$$2a$04$D5wQCFlHc7dkHwQt2Zmx4u6tqnWI4wol7zp8btjf8ZaveNAn8RcRy", password: "hunter2"},
	{name: "scrypt django 4.2 default (N=2^14 r=8 p=1)", slow: true, encoded: "scrypt$16384$sAyVCqD37nSztvUeZ9uTcN$8$1$mIP5TwoZc0QnPqKmQVH2e4YGDx85/VQ5EYmbwaJXhfvkhMNl+JfAhNWfM9ejHcOXKphs0KQn/lWtky0/qsVhZQ==", password: "correct horse battery staple"},
	{name: "scrypt n16 r8 p2 non-ascii", encoded: "scrypt$16$0mUz8WNw3y67xym7GrwINe$8$2$gCTxSv5oIKIdmyK7i1eavzeLuqEFQN9tr6tX11nJc54slwmGR0+S1IAC8eOrfq1k9ihRLodXuGOJSuklwpCpBA==", password: "pässwörd 🔑"},
	{name: "scrypt n1024 r1 p1", encoded: "scrypt$1024$AiUdFVBaGowgFKVfxARjXh$1$1$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==", password: "hunter2"},
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// wrongPasswords derives near misses from the right password; Django rejects each.
func wrongPasswords(password string) []string {
	wrong := []string{password + " ", "x" + password, strings.ToUpper(password) + "!"}
	if password != "" {
		wrong = append(wrong, "", password[:len(password)-1])
	}
	return wrong
}

func TestPasswordCheckDjangoVectors(t *testing.T) {
	t.Parallel()
	// The configured algorithm does not matter for verification; the vectors carry
	// their own parameters.
	h := newTestHasher(t, cheapConfig(Argon2))
	for _, v := range djangoPasswordVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			if v.slow && (testing.Short() || (raceEnabled() && os.Getenv("RESTAUTH_SLOW_TESTS") == "")) {
				// Race instrumentation makes bcrypt cost 12 take minutes; the cheap vectors
				// cover the same code.
				t.Skip("Django default cost: skipped with -short, and with -race unless RESTAUTH_SLOW_TESTS=1")
			}
			ctx := context.Background()
			ok, _, err := h.Check(ctx, v.password, v.encoded)
			require.NoError(t, err)
			assert.True(t, ok, "right password")
			for _, pw := range v.alsoMatches {
				ok, _, err := h.Check(ctx, pw, v.encoded)
				require.NoError(t, err)
				assert.True(t, ok, "equivalent password of length %d", len(pw))
			}
			for _, pw := range wrongPasswords(v.password) {
				if v.slow && pw != "" {
					continue // one wrong password is enough at full cost
				}
				if len(v.alsoMatches) > 0 && len(pw) >= 72 && pw[:72] == v.password[:72] {
					continue // the same to plain bcrypt, which reads 72 bytes
				}
				ok, rehash, err := h.Check(ctx, pw, v.encoded)
				require.NoError(t, err)
				assert.False(t, ok, "wrong password of length %d", len(pw))
				assert.False(t, rehash, "rehash without a match")
			}
		})
	}
}

func TestPasswordBcryptRejectsNUL(t *testing.T) {
	t.Parallel()
	// python-bcrypt raises on NUL bytes, so Django never accepts such a password for a
	// plain bcrypt hash; C bcrypt would have compared only the part before the NUL.
	h := newTestHasher(t, cheapConfig(Argon2))
	ok, _, err := h.Check(context.Background(), "hunter2\x00extra", "bcrypt$$2b$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.")
	require.NoError(t, err)
	assert.False(t, ok)
}

var (
	argon2EncodedRE = regexp.MustCompile(`^argon2\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)
	pbkdf2EncodedRE = regexp.MustCompile(`^pbkdf2_sha256\$(\d+)\$([A-Za-z0-9]{22})\$([A-Za-z0-9+/]{43}=)$`)
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []string{Argon2, PBKDF2SHA256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			cfg := cheapConfig(alg)
			cfg.PBKDF2Iterations = 3
			cfg.Argon2Time, cfg.Argon2MemoryKiB, cfg.Argon2Threads = 2, 32, 2
			h := newTestHasher(t, cfg)
			for _, pw := range []string{"correct horse battery staple", "", "pässwörd 🔑", strings.Repeat("long", 100)} {
				encoded, err := h.Hash(ctx, pw)
				require.NoError(t, err)
				if len(pw) >= 4 {
					assert.NotContains(t, encoded, pw, "hash must not contain the password")
				}

				switch alg {
				case Argon2:
					m := argon2EncodedRE.FindStringSubmatch(encoded)
					require.NotNil(t, m, encoded)
					assert.Equal(t, []string{"32", "2", "2"}, m[1:4])
					salt, err := base64.RawStdEncoding.DecodeString(m[4])
					require.NoError(t, err)
					assert.Regexp(t, `^[A-Za-z0-9]{22}$`, string(salt), "Django-style salt")
					key, err := base64.RawStdEncoding.DecodeString(m[5])
					require.NoError(t, err)
					assert.Len(t, key, 32)
				case PBKDF2SHA256:
					m := pbkdf2EncodedRE.FindStringSubmatch(encoded)
					require.NotNil(t, m, encoded)
					assert.Equal(t, "3", m[1])
				}

				ok, rehash, err := h.Check(ctx, pw, encoded)
				require.NoError(t, err)
				assert.True(t, ok)
				assert.False(t, rehash, "a fresh hash is up to date")
				ok, _, err = h.Check(ctx, pw+"x", encoded)
				require.NoError(t, err)
				assert.False(t, ok)
			}
			a, err := h.Hash(ctx, "same")
			require.NoError(t, err)
			b, err := h.Hash(ctx, "same")
			require.NoError(t, err)
			assert.NotEqual(t, a, b, "every hash gets a fresh salt")
		})
	}
}

func TestPasswordKnownAnswer(t *testing.T) {
	t.Parallel()
	// encode is deterministic for a given salt. Django 3.2's check_password accepts both
	// outputs (and rejects a wrong password); the PBKDF2 one equals Django's own
	// PBKDF2PasswordHasher.encode and the argon2 one argon2-cffi's hash_secret with the
	// same salt and hash_len=32, so Django reads what restauth writes.
	h := newTestHasher(t, Config{Algorithm: PBKDF2SHA256, PBKDF2Iterations: 1000})
	got, err := h.encode("correct horse battery staple", "abcdefghijklmnopqrstuv")
	require.NoError(t, err)
	assert.Equal(t, "pbkdf2_sha256$1000$abcdefghijklmnopqrstuv$7g09gCC/g1P5ACeEb8xx77VaL+guiGRutJE6Ai8cR90=", got)

	h = newTestHasher(t, Config{Argon2Time: 1, Argon2MemoryKiB: 64, Argon2Threads: 2})
	got, err = h.encode("correct horse battery staple", "abcdefghijklmnopqrstuv")
	require.NoError(t, err)
	assert.Equal(t, "argon2$argon2id$v=19$m=64,t=1,p=2$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$kzcQ3AM0DG+3b8fyYs/orPFmdo0Btz5o2vGYIBVggJg", got)
}

func TestPasswordRehash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "correct horse battery staple"
	hashWith := func(t *testing.T, cfg Config, salt string) string {
		t.Helper()
		encoded, err := newTestHasher(t, cfg).encode(pw, salt)
		require.NoError(t, err)
		return encoded
	}
	salt := randomSaltString()
	argonCfg := func(tm, m uint32, p uint8) Config {
		return Config{Algorithm: Argon2, Argon2Time: tm, Argon2MemoryKiB: m, Argon2Threads: p}
	}
	pbkdf2Cfg := func(iter int) Config {
		return Config{Algorithm: PBKDF2SHA256, PBKDF2Iterations: iter}
	}
	argon2i := "argon2$argon2i$v=19$m=256,t=3,p=1$VTZOTnozeWJxVjU4dWVXMkZoQzBzdQ$T9dY3C498TPnXr9VxXBnmw" // "hunter2"

	tests := []struct {
		name       string
		configured Config
		encoded    string
		password   string
		want       bool
	}{
		{"argon2 same params", argonCfg(2, 16, 1), hashWith(t, argonCfg(2, 16, 1), salt), pw, false},
		{"argon2 more passes", argonCfg(2, 16, 1), hashWith(t, argonCfg(3, 16, 1), salt), pw, false},
		{"argon2 more memory", argonCfg(2, 16, 1), hashWith(t, argonCfg(2, 32, 1), salt), pw, false},
		{"argon2 fewer passes", argonCfg(2, 16, 1), hashWith(t, argonCfg(1, 16, 1), salt), pw, true},
		{"argon2 less memory", argonCfg(2, 16, 1), hashWith(t, argonCfg(2, 8, 1), salt), pw, true},
		{"argon2 other lanes", argonCfg(2, 16, 1), hashWith(t, argonCfg(2, 16, 2), salt), pw, true},
		{"argon2i variant", argonCfg(1, 8, 1), argon2i, "hunter2", true},
		{"argon2 short salt", argonCfg(2, 16, 1), hashWith(t, argonCfg(2, 16, 1), "sixteen-byte-slt"), pw, true},
		{"argon2 wrong password", argonCfg(2, 16, 1), hashWith(t, argonCfg(1, 8, 1), salt), "nope", false},
		{"pbkdf2 configured, argon2 stored", pbkdf2Cfg(2), hashWith(t, argonCfg(2, 16, 1), salt), pw, true},
		{"argon2 configured, pbkdf2 stored", argonCfg(1, 8, 1), hashWith(t, pbkdf2Cfg(5), salt), pw, true},
		{"pbkdf2 same iterations", pbkdf2Cfg(5), hashWith(t, pbkdf2Cfg(5), salt), pw, false},
		{"pbkdf2 more iterations", pbkdf2Cfg(5), hashWith(t, pbkdf2Cfg(6), salt), pw, false},
		{"pbkdf2 fewer iterations", pbkdf2Cfg(5), hashWith(t, pbkdf2Cfg(4), salt), pw, true},
		// Django before 3.1 wrote 12-character salts (71 bits); Django re-hashes them.
		{"pbkdf2 short salt", pbkdf2Cfg(5), hashWith(t, pbkdf2Cfg(5), "abcdefghijkl"), pw, true},
		{"pbkdf2 fewer iterations wrong password", pbkdf2Cfg(5), hashWith(t, pbkdf2Cfg(4), salt), "nope", false},
		{"pbkdf2_sha1", pbkdf2Cfg(1), "pbkdf2_sha1$10000$ifeNWxA5mJPjvDP6XPleIr$TM43OufA6eaJH4iuHI4/ZGZ0Lto=", "hunter2", true},
		{"bcrypt", pbkdf2Cfg(1), "bcrypt$$2a$04$D5wQCFlHc7dkHwQt2Zmx4u6tqnWI4wol7zp8btjf8ZaveNAn8RcRy", "hunter2", true},
		{"bcrypt_sha256", argonCfg(1, 8, 1), "bcrypt_sha256$$2b$04$nlgyrc.Acl.LnjrFCMqErOYnyzAnfdDewEeCym9J5v60RglrooYvm", strings.Repeat("x", 72) + "tail-that-bcrypt-would-truncate", true},
		{"scrypt", argonCfg(1, 8, 1), "scrypt$1024$AiUdFVBaGowgFKVfxARjXh$1$1$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==", "hunter2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newTestHasher(t, tt.configured)
			ok, rehash, err := h.Check(ctx, tt.password, tt.encoded)
			require.NoError(t, err)
			assert.Equal(t, tt.password != "nope", ok)
			assert.Equal(t, tt.want, rehash)
		})
	}
}

// malformedPasswordHashes must never match (nor panic); a few are well-formed hashes of
// kinds Django could verify but this package cannot, noted as such.
var malformedPasswordHashes = []string{
	"",
	"!",
	"!pbkdf2_sha256$1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=", // unusable
	"!Jx8sMY2k2CnKj3JjYwJcaMHZk2yq9J7mAq8MKyRw",                                            // set_unusable_password
	"$",
	"$$$$",
	"plain$hunter2",
	"pbkdf2_sha256",
	"pbkdf2_sha256$",
	"pbkdf2_sha256$1$7b9p0B5XRzr5UWaBiMSx3v",
	"pbkdf2_sha256$0$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=",
	"pbkdf2_sha256$-1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=",
	"pbkdf2_sha256$+1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=",
	"pbkdf2_sha256$01$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=",
	"pbkdf2_sha256$ 1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=",
	"pbkdf2_sha256$99999999999999999999$salt$aGFzaA==",
	"pbkdf2_sha256$1$$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=",
	"pbkdf2_sha256$1$7b9p0B5XRzr5UWaBiMSx3v$",
	"pbkdf2_sha256$1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=$",
	"pbkdf2_sha256$1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks", // unpadded
	"PBKDF2_SHA256$1$7b9p0B5XRzr5UWaBiMSx3v$b3NvT+PAWoTeGcAQ0r9VjXcJF0DfSUSxrIEsRxJ+qks=",
	"argon2",
	"argon2$",
	"argon2$argon2id",
	"argon2$argon2id$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg",
	"argon2$argon2id$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ$",
	// Argon2 1.0 (no v= field, Django 1.10): valid for Django, not supported by x/crypto.
	"argon2$argon2i$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2i$v=16$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2d$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ", // argon2d: not in x/crypto
	"argon2$argon2x$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=0,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1,p=0$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1,p=256$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=7,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1,p=9$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ", // m < 8p
	"argon2$argon2id$v=19$m=4294967295,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=4294967295,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$t=1,m=64,p=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1,p=1,x=1$ZYNTYlHcrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg==$RDH6ofFpKyM7ZGcBDQPgyQ", // padded
	"argon2$argon2id$v=19$m=64,t=1,p=1$ZYNTYlHc\nrl+u/bmRJWjFKg$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKh$RDH6ofFpKyM7ZGcBDQPgyQ", // stray bits
	"argon2$argon2id$v=19$m=64,t=1,p=1$YWJj$RDH6ofFpKyM7ZGcBDQPgyQ",                   // 3-byte salt
	"argon2$argon2id$v=19$m=64,t=1,p=1$ZYNTYlHcrl+u/bmRJWjFKg$YWI",                    // 2-byte hash
	"argon2$argon2id$v=19$m=64,t=1,p=1$!!!$RDH6ofFpKyM7ZGcBDQPgyQ",
	"argon2$argon2id$v=19$m=64,t=1,p=1$$",
	"bcrypt$",
	"bcrypt$$2b$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L",   // short
	"bcrypt$$2b$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.x", // trailing
	"bcrypt$$2x$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.",
	"bcrypt$$3b$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.",
	"bcrypt$$2b$03$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.",
	"bcrypt$$2b$31$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.",
	"bcrypt$$2b$+4$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.",
	"bcrypt$$2b$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L!",
	"bcrypt$2b$04$TcdH7YwaaxMEMek2iG1Xk.13w6G5mKceYrr1kHj3LLTd62cMrt6L.a",
	"bcrypt_sha256$$2b$04$nlgyrc.Acl.LnjrFCMqErOYnyzAnfdDewEeCym9J5v60RglrooYv",
	"scrypt$",
	"scrypt$1024$AiUdFVBaGowgFKVfxARjXh$1$1",
	"scrypt$1000$AiUdFVBaGowgFKVfxARjXh$1$1$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==",
	"scrypt$1$AiUdFVBaGowgFKVfxARjXh$1$1$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==",
	"scrypt$1024$AiUdFVBaGowgFKVfxARjXh$0$1$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==",
	"scrypt$1024$AiUdFVBaGowgFKVfxARjXh$1$0$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==",
	"scrypt$1073741824$AiUdFVBaGowgFKVfxARjXh$8$1$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==",
	"scrypt$1024$AiUdFVBaGowgFKVfxARjXh$1$1048576$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==",
	"scrypt$1024$$1$1$sy0TzRhgPqKc2aMPsJPZWLWM7kUIR4G+LrfsErsTwDE4/8ANVnC6+Nczw6dRNLGhFVXzKuyk0lEGeCCW2PCjQg==",
	// Well-formed hashes of Django hashers not carried over (unsalted and salted MD5/SHA1,
	// crypt): Django's defaults never write them.
	"md5$salt$7b7bc2512ee1fedcd76bdc68926d4f7b",
	"sha1$salt$4b1f2f2d3b8b4b1e9b0c0b8f3b8b4b1e9b0c0b8f",
	"5f4dcc3b5aa765d61d8327deb882cf99",
	"crypt$$ab1Hv2Lg7ltQo",
	"\x00\xff\xfe$",
}

func TestPasswordCheckMalformed(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, cheapConfig(Argon2))
	for _, encoded := range malformedPasswordHashes {
		for _, pw := range []string{"hunter2", "", "correct horse battery staple"} {
			ok, rehash, err := h.Check(context.Background(), pw, encoded)
			require.NoError(t, err, "%q", encoded)
			assert.False(t, ok, "%q", encoded)
			assert.False(t, rehash, "%q", encoded)
		}
	}
}

func TestNewCopiesConfig(t *testing.T) {
	t.Parallel()
	h, err := New(Config{Algorithm: PBKDF2SHA256, Argon2Time: 3, Argon2MemoryKiB: 64, Argon2Threads: 2, PBKDF2Iterations: 7, MaxConcurrentHashes: 5})
	require.NoError(t, err)
	assert.Equal(t, PBKDF2SHA256, h.algorithm)
	assert.Equal(t, uint32(3), h.argonTime)
	assert.Equal(t, uint32(64), h.argonMem)
	assert.Equal(t, uint8(2), h.argonP)
	assert.Equal(t, 7, h.iterations)
	assert.Equal(t, 5, cap(h.sem))
	assert.Zero(t, h.HashCount(), "building a Hasher computes no hash")
}

func TestHashCount(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, cheapConfig(Argon2))
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "hunter2")
	require.NoError(t, err)
	assert.Equal(t, int64(1), h.HashCount())
	_, _, err = h.Check(ctx, "hunter2", encoded)
	require.NoError(t, err)
	_, _, err = h.Check(ctx, "hunter2", "!unusable")
	require.NoError(t, err)
	require.NoError(t, h.DummyCheck(ctx, "hunter2"))
	assert.Equal(t, int64(4), h.HashCount(), "every path costs one hash")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, h.DummyCheck(cancelled, "hunter2"), context.Canceled)
	assert.Equal(t, int64(4), h.HashCount(), "no slot, no hash")
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	assert.NoError(t, withDefaults(Config{}).Validate())
	for _, tt := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"unknown algorithm", Config{Algorithm: "md5"}, `Algorithm "md5" is not supported`},
		{"bcrypt is verify-only", Config{Algorithm: "bcrypt_sha256"}, "not supported"},
		{"argon2 too much memory", Config{Argon2MemoryKiB: 1<<20 + 1}, "Argon2MemoryKiB"},
		{"argon2 memory below 8p", Config{Argon2MemoryKiB: 15, Argon2Threads: 2}, "8 × Argon2Threads"},
		{"argon2 too many passes", Config{Argon2Time: 101}, "Argon2Time"},
		{"negative iterations", Config{PBKDF2Iterations: -1}, "PBKDF2Iterations"},
		{"too many iterations", Config{PBKDF2Iterations: 20_000_001}, "PBKDF2Iterations"},
		{"negative concurrency", Config{MaxConcurrentHashes: -1}, "MaxConcurrentHashes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := New(withDefaults(tt.cfg))
			require.Error(t, err)
			assert.Nil(t, h)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
	// Left at zero, these would panic in argon2, fail every PBKDF2 hash or block every
	// caller on an unbuffered semaphore.
	for _, zero := range []func(*Config){
		func(c *Config) { c.Argon2Time = 0 },
		func(c *Config) { c.Argon2Threads = 0 },
		func(c *Config) { c.PBKDF2Iterations = 0 },
		func(c *Config) { c.MaxConcurrentHashes = 0 },
	} {
		cfg := withDefaults(Config{})
		zero(&cfg)
		h, err := New(cfg)
		require.Error(t, err)
		assert.Nil(t, h)
		assert.Contains(t, err.Error(), "must be set")
	}
	cfg := withDefaults(Config{})
	cfg.Algorithm = ""
	_, err := New(cfg)
	assert.ErrorContains(t, err, "is not supported")
}

func TestPasswordRandomSalt(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 200 {
		s := randomSaltString()
		require.Regexp(t, `^[A-Za-z0-9]{22}$`, s)
		require.False(t, seen[s], "salts repeat")
		seen[s] = true
		for _, r := range s {
			counts[r]++
		}
	}
	// 4400 draws over 62 symbols: every symbol turns up (missing one has p ≈ 62·e^-71).
	assert.Len(t, counts, 62)
}

func TestPasswordConcurrencyLimit(t *testing.T) {
	t.Parallel()
	cfg := cheapConfig(Argon2)
	cfg.MaxConcurrentHashes = 1
	h := newTestHasher(t, cfg)
	encoded, err := h.Hash(context.Background(), "hunter2")
	require.NoError(t, err)

	h.sem <- struct{}{} // occupy the only slot, as a long-running hash would

	t.Run("waiters honour their deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := h.Hash(ctx, "hunter2")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		ok, rehash, err := h.Check(ctx, "hunter2", encoded)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, ok)
		assert.False(t, rehash)
		// Unusable hashes queue for their dummy work like everything else.
		_, _, err = h.Check(ctx, "hunter2", "!")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, h.DummyCheck(ctx, "hunter2"), context.DeadlineExceeded) // returns instead of blocking
	})

	t.Run("cancellation wakes a waiter", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := h.Hash(ctx, "hunter2")
			done <- err
		}()
		cancel()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(5 * time.Second):
			t.Fatal("Hash did not return after cancellation")
		}
	})

	t.Run("a queued caller proceeds once the slot frees", func(t *testing.T) {
		done := make(chan bool, 1)
		go func() {
			ok, _, err := h.Check(context.Background(), "hunter2", encoded)
			done <- ok && err == nil
		}()
		select {
		case <-done:
			t.Fatal("Check ran while the slot was taken")
		case <-time.After(20 * time.Millisecond):
		}
		<-h.sem // free the slot
		select {
		case ok := <-done:
			assert.True(t, ok)
		case <-time.After(5 * time.Second):
			t.Fatal("Check did not proceed after the slot freed")
		}
		h.sem <- struct{}{} // take it back for the next subtest
	})

	<-h.sem
	t.Run("an already cancelled context never hashes", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for range 20 { // a free slot and a done context are both ready; ctx must win
			_, err := h.Hash(ctx, "hunter2")
			require.ErrorIs(t, err, context.Canceled)
		}
		assert.Empty(t, h.sem, "no slot leaked")
	})
}

func TestPasswordDummyCheck(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{Argon2, PBKDF2SHA256} {
		h := newTestHasher(t, cheapConfig(alg))
		require.NoError(t, h.DummyCheck(context.Background(), "whatever"))
		assert.Empty(t, h.sem, "slot released")
		// The dummy has exactly the configured parameters, so it costs what a real,
		// up-to-date hash costs.
		assert.True(t, h.dummy.upToDate(h), alg)
	}
}

func FuzzCheckEncoded(f *testing.F) {
	for _, v := range djangoPasswordVectors {
		if !v.slow {
			f.Add(v.password, v.encoded)
		}
	}
	for _, encoded := range malformedPasswordHashes {
		f.Add("hunter2", encoded)
	}
	h := newTestHasher(f, cheapConfig(Argon2))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, password, encoded string) {
		ok, rehash, err := h.Check(ctx, password, encoded)
		require.NoError(t, err)
		if rehash {
			assert.True(t, ok, "rehash only with a match")
		}
	})
}
