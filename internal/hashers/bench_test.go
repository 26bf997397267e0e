package hashers

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

const benchPassword = "correct horse battery staple"

// BenchmarkPasswordHash measures writing a hash with each writable algorithm at its
// default parameters (argon2id t=2 m=19 MiB p=1; PBKDF2-SHA256 600000 iterations).
func BenchmarkPasswordHash(b *testing.B) {
	ctx := context.Background()
	for _, alg := range []string{Argon2, PBKDF2SHA256} {
		b.Run(alg, func(b *testing.B) {
			h := newTestHasher(b, Config{Algorithm: alg})
			for b.Loop() {
				if _, err := h.Hash(ctx, benchPassword); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPasswordCheck measures verifying a correct password against each supported
// encoding at the parameters Django (or restauth) writes by default, which is what a
// login against an imported InvenTree user table costs.
func BenchmarkPasswordCheck(b *testing.B) {
	ctx := context.Background()
	restauthDefault := newTestHasher(b, Config{})
	argon2Default, err := restauthDefault.Hash(ctx, benchPassword)
	require.NoError(b, err)
	pbkdf2Default, err := newTestHasher(b, Config{Algorithm: PBKDF2SHA256}).Hash(ctx, benchPassword)
	require.NoError(b, err)
	salt := randomSaltString()
	sha1Key, err := pbkdf2.Key(sha1.New, benchPassword, []byte(salt), defaultPBKDF2Iterations, sha1.Size)
	require.NoError(b, err)
	bcryptDefault, err := bcrypt.GenerateFromPassword([]byte(benchPassword), 12) // Django's rounds
	require.NoError(b, err)

	cases := []struct{ name, encoded string }{
		{"argon2id restauth default", argon2Default},
		{"pbkdf2_sha256 600000", pbkdf2Default},
		{"pbkdf2_sha1 600000", fmt.Sprintf("pbkdf2_sha1$%d$%s$%s", defaultPBKDF2Iterations, salt, base64.StdEncoding.EncodeToString(sha1Key))},
		{"argon2id django default m=100MiB p=8", "argon2$argon2id$v=19$m=102400,t=2,p=8$WW95TFVwREVwamRDa3FzM1Z2V0JRbA$485MhvILk1zb5OAMiQFpnA"},
		{"bcrypt_sha256 cost 12", "bcrypt_sha256$$2b$12$6zygVLp/59CLYO260ucQ3.bsaZQrH6RkMMtRpM9.9UbHWrgBnNtei"},
		{"bcrypt cost 12", "bcrypt$" + string(bcryptDefault)},
		{"scrypt django default N=2^14 r=8 p=1", "scrypt$16384$sAyVCqD37nSztvUeZ9uTcN$8$1$mIP5TwoZc0QnPqKmQVH2e4YGDx85/VQ5EYmbwaJXhfvkhMNl+JfAhNWfM9ejHcOXKphs0KQn/lWtky0/qsVhZQ=="},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ok, _, err := restauthDefault.Check(ctx, benchPassword, c.encoded)
				if err != nil || !ok {
					b.Fatalf("ok=%v err=%v", ok, err)
				}
			}
		})
	}
}

// BenchmarkPasswordDummyCheck measures the unknown-user path, which should cost what
// BenchmarkPasswordCheck's matching restauth default costs.
func BenchmarkPasswordDummyCheck(b *testing.B) {
	ctx := context.Background()
	for _, alg := range []string{Argon2, PBKDF2SHA256} {
		b.Run(alg, func(b *testing.B) {
			h := newTestHasher(b, Config{Algorithm: alg})
			for b.Loop() {
				h.DummyCheck(ctx, benchPassword)
			}
		})
	}
}
