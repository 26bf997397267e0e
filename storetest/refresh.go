package storetest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// refreshToken is a refresh token of user uid in family, by the hash of id.
func refreshToken(uid int64, id, family string) *restauth.RefreshToken {
	return &restauth.RefreshToken{UserID: uid, Hash: hashOf(id), Family: family, Created: base, Expires: base.Add(24 * time.Hour)}
}

func createRefresh(t *testing.T, s restauth.Store, uid int64, id, family string) *restauth.RefreshToken {
	t.Helper()
	rt := refreshToken(uid, id, family)
	require.NoError(t, s.CreateRefreshToken(t.Context(), rt))
	require.Positive(t, rt.ID, "CreateRefreshToken must write the assigned ID back")
	return rt
}

// refreshExists probes for the token of hash id by exchanging it for a throwaway one.
func refreshExists(t *testing.T, s restauth.Store, uid int64, id, family string) bool {
	t.Helper()
	err := s.ReplaceRefreshToken(t.Context(), hashOf(id), refreshToken(uid, id+"-probe", family))
	if errors.Is(err, restauth.ErrNotFound) {
		return false
	}
	require.NoError(t, err)
	return true
}

var refreshTests = []test{
	{"ReplaceRefreshToken exchanges a token once", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		first := createRefresh(t, s, u.ID, "r1", "fam")
		next := refreshToken(u.ID, "r2", "fam")
		require.NoError(t, s.ReplaceRefreshToken(t.Context(), first.Hash, next))
		assert.Positive(t, next.ID)
		assert.NotEqual(t, first.ID, next.ID)
		requireNotFound(t, s.ReplaceRefreshToken(t.Context(), first.Hash, refreshToken(u.ID, "r3", "fam")))
		assert.False(t, refreshExists(t, s, u.ID, "r3", "fam"), "a refused exchange must store nothing")
		assert.True(t, refreshExists(t, s, u.ID, "r2", "fam"))
	}},
	{"ReplaceRefreshToken finds only the user's own tokens", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		createRefresh(t, s, a.ID, "ra", "fam")
		requireNotFound(t, s.ReplaceRefreshToken(t.Context(), hashOf("ra"), refreshToken(b.ID, "rb", "fam")))
		assert.True(t, refreshExists(t, s, a.ID, "ra", "fam"))
	}},
	{"CreateRefreshToken for a missing user is ErrNotFound", func(t *testing.T, s restauth.Store) {
		requireNotFound(t, s.CreateRefreshToken(t.Context(), refreshToken(424242, "x", "fam")))
	}},
	{"DeleteRefreshTokens removes one family, or all", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		createRefresh(t, s, u.ID, "a1", "one")
		createRefresh(t, s, u.ID, "a2", "two")
		createRefresh(t, s, u.ID, "a3", "three")
		createRefresh(t, s, other.ID, "b1", "one")
		require.NoError(t, s.DeleteRefreshTokens(t.Context(), u.ID, "one"))
		assert.False(t, refreshExists(t, s, u.ID, "a1", "one"))
		assert.True(t, refreshExists(t, s, u.ID, "a2", "two"))
		assert.True(t, refreshExists(t, s, other.ID, "b1", "one"), "another user's family of the same name stays")
		require.NoError(t, s.DeleteRefreshTokens(t.Context(), u.ID, ""))
		assert.False(t, refreshExists(t, s, u.ID, "a3", "three"))
		assert.False(t, refreshExists(t, s, u.ID, "a2-probe", "two"))
		require.NoError(t, s.DeleteRefreshTokens(t.Context(), 424242, ""), "an unknown user has none")
	}},
	{"DeleteUser removes the user's refresh tokens", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		createRefresh(t, s, u.ID, "gone", "fam")
		require.NoError(t, s.DeleteUser(t.Context(), u.ID))
		requireNotFound(t, s.ReplaceRefreshToken(t.Context(), hashOf("gone"), refreshToken(u.ID, "n", "fam")))
	}},
	{"concurrent exchanges of one token: exactly one wins", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		first := createRefresh(t, s, u.ID, "race", "fam")
		var won, lost atomic.Int32
		startTogether(8, func(i int) {
			err := s.ReplaceRefreshToken(t.Context(), first.Hash, refreshToken(u.ID, "race-"+string(rune('a'+i)), "fam"))
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, restauth.ErrNotFound):
				lost.Add(1)
			default:
				t.Errorf("ReplaceRefreshToken: %v", err)
			}
		})
		assert.Equal(t, int32(1), won.Load())
		assert.Equal(t, int32(7), lost.Load())
	}},
}
