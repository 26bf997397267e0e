package seal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSealedBytesBoundToPurposeAndData(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	plain := []byte("totp secret bytes")
	sealed := Seal(AEAD(secret, "a"), plain, []byte("7"))
	assert.NotContains(t, string(sealed), string(plain))

	opened, err := Open(AEAD(secret, "a"), sealed, []byte("7"))
	require.NoError(t, err)
	assert.Equal(t, plain, opened)

	_, err = Open(AEAD(secret, "b"), sealed, []byte("7"))
	assert.Error(t, err, "another purpose")
	_, err = Open(AEAD(secret, "a"), sealed, []byte("8"))
	assert.Error(t, err, "other associated data (another user)")
	_, err = Open(AEAD([]byte("another-secret-another-secret-00"), "a"), sealed, []byte("7"))
	assert.Error(t, err, "another Config.Secret")
	_, err = Open(AEAD(secret, "a"), sealed[:5], []byte("7"))
	assert.Error(t, err, "truncated")
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	_, err = Open(AEAD(secret, "a"), tampered, []byte("7"))
	assert.Error(t, err, "tampered")
}
