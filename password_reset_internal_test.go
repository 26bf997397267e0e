package restauth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reset token hashes only the user fields resetTokenUser hands internal/resettoken
// (whose own tests pin what each of them does): the others do not matter.
func TestResetTokenUserFields(t *testing.T) {
	t.Parallel()
	s := &Service{cfg: Config{Secret: []byte("restauth-test-secret-0123456789"), PasswordResetTimeout: 72 * time.Hour}}
	now := time.Date(2024, 12, 1, 10, 0, 0, 0, time.UTC)
	base := User{
		ID: 35, Username: "alice", PasswordHash: "pbkdf2_sha256$720000$abcdef$Zm9vYmFy",
		Email: "alice@example.com", LastLogin: time.Date(2024, 11, 30, 15, 30, 0, 123456000, time.UTC),
	}
	emails := []string{"alice@example.com", "alice@work.example"}
	token := s.resetTokens().Make(resetTokenUser(&base), emails, now)
	require.True(t, s.resetTokens().Check(resetTokenUser(&base), emails, token, now))

	tests := []struct {
		name   string
		change func(u *User)
		valid  bool
	}{
		{"fields outside the hash", func(u *User) {
			u.Username, u.FirstName, u.IsStaff, u.IsActive = "bob", "Bob", true, false
		}, true},
		{"password hash changes", func(u *User) { u.PasswordHash += "x" }, false},
		{"last login changes", func(u *User) { u.LastLogin = now }, false},
		{"user e-mail changes", func(u *User) { u.Email = "alice@work.example" }, false},
		{"pk changes", func(u *User) { u.ID = 36 }, false},
	}
	for _, tt := range tests {
		u := base
		tt.change(&u)
		assert.Equal(t, tt.valid, s.resetTokens().Check(resetTokenUser(&u), emails, token, now), tt.name)
	}
	assert.Nil(t, resetTokenUser(nil))
	assert.False(t, s.resetTokens().Check(resetTokenUser(nil), emails, token, now), "no user, no match")
}
