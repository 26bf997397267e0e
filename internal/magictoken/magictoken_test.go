package magictoken

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	b := Bound{PasswordHash: "pbkdf2_sha256$1$salt$hash", LastLogin: time.Unix(1700000000, 123456000), Emails: []string{"b@example.com", "a@example.com"}}
	token := New(secret, 42, 1700000100, b)

	id, issued, ok := Parse(token)
	require.True(t, ok)
	assert.Equal(t, int64(42), id)
	assert.Equal(t, int64(1700000100), issued)
	assert.True(t, Valid(secret, token, b))
	assert.True(t, Valid(secret, token, Bound{PasswordHash: b.PasswordHash, LastLogin: b.LastLogin, Emails: []string{"a@example.com", "b@example.com"}}), "address order does not matter")

	for name, changed := range map[string]Bound{
		"password":   {PasswordHash: "other", LastLogin: b.LastLogin, Emails: b.Emails},
		"last login": {PasswordHash: b.PasswordHash, LastLogin: b.LastLogin.Add(time.Microsecond), Emails: b.Emails},
		"addresses":  {PasswordHash: b.PasswordHash, LastLogin: b.LastLogin, Emails: []string{"a@example.com"}},
	} {
		assert.False(t, Valid(secret, token, changed), name)
	}
	assert.False(t, Valid([]byte("another secret, just as long...."), token, b), "another secret")
	id2, _, _ := Parse(token)
	assert.False(t, Valid(secret, New(secret, id2+1, 1700000100, b)[:len(token)-1], b), "cut MAC")
}

func TestParseRefusesMalformed(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"", "a.b", "a.b.c.d", "0.1.x", "-1.1.x", "zz!.1.x", "1.1." + string(make([]byte, 130))} {
		_, _, ok := Parse(token)
		assert.False(t, ok, "%q", token)
	}
}
