package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// tokenUserTests pin down the optional restauth.TokenUserStore capability; a store without
// it skips them.
var tokenUserTests = []test{
	{"TokenAndUserByHash agrees with TokenByHash and UserByID", func(t *testing.T, s restauth.Store) {
		joined, ok := s.(restauth.TokenUserStore)
		if !ok {
			t.Skip("the store does not implement restauth.TokenUserStore")
		}
		u := createUser(t, s, "joined")
		tk := createToken(t, s, u.ID, "inv-joined-key")
		require.NoError(t, s.RevokeToken(t.Context(), tk.ID))

		gotToken, gotUser, err := joined.TokenAndUserByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		wantToken, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		wantUser, err := s.UserByID(t.Context(), u.ID)
		require.NoError(t, err)
		requireTokenEqual(t, wantToken, gotToken)
		assert.True(t, gotToken.Revoked, "revoked tokens are returned too")
		assert.Equal(t, wantUser.Username, gotUser.Username)
		assert.Equal(t, wantUser.PasswordHash, gotUser.PasswordHash)
		assert.Equal(t, wantUser.ID, gotUser.ID)
		assert.True(t, wantUser.DateJoined.Equal(gotUser.DateJoined))

		_, _, err = joined.TokenAndUserByHash(t.Context(), [32]byte{1, 2, 3})
		assert.ErrorIs(t, err, restauth.ErrNotFound)
	}},
}
