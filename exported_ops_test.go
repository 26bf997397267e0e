package restauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// TestUserExists covers the lookup the 291 emails/ route uses to tell an unknown "user"
// pk from another user's.
func TestUserExists(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("alice", "correct horse battery", "alice@example.com")
	for _, tc := range []struct {
		name string
		id   int64
		want bool
	}{
		{"existing", u.ID, true},
		{"unknown", u.ID + 1000, false},
		{"zero", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.UserExists(context.Background(), tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestTokenActive: a token is active through its expiry day by the Service's clock, and
// not once revoked.
func TestTokenActive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, func(c *restauth.Config) { c.Tokens.Lifetime = 48 * time.Hour })
	u, _ := e.register("alice", "correct horse battery", "alice@example.com")
	issued, err := e.svc.IssueToken(ctx, u, "t")
	require.NoError(t, err)
	tok := issued.Token
	assert.True(t, e.svc.TokenActive(&tok), "new")
	e.clock.Advance(48 * time.Hour)
	assert.True(t, e.svc.TokenActive(&tok), "on its expiry day")
	e.clock.Advance(24 * time.Hour)
	assert.False(t, e.svc.TokenActive(&tok), "after its expiry day")

	other, err := e.svc.IssueToken(ctx, u, "other")
	require.NoError(t, err)
	require.NoError(t, e.svc.RevokeToken(ctx, u, other.Token.ID))
	tokens, err := e.svc.Tokens(ctx, u.ID)
	require.NoError(t, err)
	found := false
	for i := range tokens {
		if tokens[i].ID == other.Token.ID {
			found = true
			assert.True(t, tokens[i].Revoked)
			assert.False(t, e.svc.TokenActive(&tokens[i]), "revoked")
		}
	}
	require.True(t, found)
}
