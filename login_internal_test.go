package restauth

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// usersOnlyStore answers UserByUsername from a map; checkCredentials needs nothing else.
type usersOnlyStore struct {
	Store
	users map[string]*User
}

func (s usersOnlyStore) UserByUsername(_ context.Context, name string) (*User, error) {
	if u, ok := s.users[strings.ToLower(name)]; ok {
		c := *u
		return &c, nil
	}
	return nil, ErrNotFound
}

// TestEveryFailedLoginCostsOneHash: an unknown user, a user without a usable password, an
// inactive user and a wrong password each cost exactly one hash, like a right password, so
// an attacker timing logins cannot tell which accounts exist.
func TestEveryFailedLoginCostsOneHash(t *testing.T) {
	t.Parallel()
	hasher, err := newPasswordHasher(PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1}, nil)
	require.NoError(t, err)
	encoded, err := hasher.Hash(context.Background(), "right-password")
	require.NoError(t, err)
	store := usersOnlyStore{users: map[string]*User{
		"active":   {ID: 1, Username: "active", PasswordHash: encoded, IsActive: true},
		"inactive": {ID: 2, Username: "inactive", PasswordHash: encoded},
		"social":   {ID: 3, Username: "social", PasswordHash: "", IsActive: true},
		"disabled": {ID: 4, Username: "disabled", PasswordHash: "!unusable", IsActive: true},
	}}
	s, err := New(Config{Store: store, Secret: []byte(strings.Repeat("k", 32)), SiteURL: "http://testserver",
		Passwords: PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1}})
	require.NoError(t, err)

	tests := []struct {
		name, username, password string
		ok                       bool
	}{
		{"right password", "active", "right-password", true},
		{"wrong password", "active", "wrong", false},
		{"unknown user", "nobody", "right-password", false},
		{"inactive user", "inactive", "right-password", false},
		{"no usable password (empty)", "social", "right-password", false},
		{"no usable password (!)", "disabled", "right-password", false},
		{"empty username", "", "x", false},
		{"password too long", "active", strings.Repeat("p", maxPasswordBytes+1), false},
	}
	for _, tc := range tests {
		before := s.hasher.HashCount()
		u, err := s.checkCredentials(context.Background(), tc.username, tc.password)
		assert.Equal(t, int64(1), s.hasher.HashCount()-before, "%s: hashes computed", tc.name)
		if tc.ok {
			assert.NoError(t, err, tc.name)
			assert.NotNil(t, u, tc.name)
		} else {
			assert.ErrorIs(t, err, ErrInvalidCredentials, tc.name)
		}
	}
}

// Only refusals that come after a right password earn the address's attempt back;
// anything else (a cancelled request included) keeps its count, so the limits cannot tell
// a known account from an unknown one.
func TestPasswordVerified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"MFA required", mfaRequired(), true},
		{"e-mail not verified", causedFieldError(ErrEmailNotVerified, nonFieldErrors, msgEmailNotVerified), true},
		{"e-mail not verified message without its sentinel", fieldError(nonFieldErrors, msgEmailNotVerified), false},
		{"invalid credentials", invalidCredentials(), false},
		{"wrong second factor", incorrectCode("mfa_code"), false},
		{"cancelled", context.Canceled, false},
		{"throttled", &ThrottledError{RetryAfterSeconds: 3}, false},
		{"missing username", fieldError(nonFieldErrors, msgMustInclude), false},
	} {
		assert.Equal(t, tc.want, passwordVerified(tc.err), tc.name)
	}
}
