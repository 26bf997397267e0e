package storetest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

var tokenTests = []test{
	{"CreateToken stores every field; lookups by hash and ID agree", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := sampleToken(u.ID, "0123456789abcdef")
		tk.LastSeen = day(3)
		require.NoError(t, s.CreateToken(t.Context(), tk))
		require.Positive(t, tk.ID)

		got, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, tk, got)
		got, err = s.TokenByID(t.Context(), tk.ID)
		require.NoError(t, err)
		requireTokenEqual(t, tk, got)
		list, err := s.Tokens(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		requireTokenEqual(t, tk, &list[0])
	}},
	{"a new token is unrevoked and never seen", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "fresh-token-key")
		got, err := s.TokenByID(t.Context(), tk.ID)
		require.NoError(t, err)
		assert.False(t, got.Revoked)
		assert.True(t, got.LastSeen.IsZero(), "LastSeen %v", got.LastSeen)
	}},
	{"CreateToken rejects a hash already stored", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		first := createToken(t, s, a.ID, "same-key-material")
		for _, uid := range []int64{a.ID, b.ID} {
			dup := sampleToken(uid, "same-key-material")
			dup.Name = "dup"
			requireConflict(t, s.CreateToken(t.Context(), dup), "token")
		}
		got, err := s.TokenByHash(t.Context(), first.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, first, got)
		list, err := s.Tokens(t.Context(), b.ID)
		require.NoError(t, err)
		assert.Empty(t, list)
	}},
	{"CreateToken for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := sampleToken(u.ID+1000, "orphan-token-key")
		requireNotFound(t, s.CreateToken(t.Context(), tk))
		_, err := s.TokenByHash(t.Context(), tk.KeyHash)
		requireNotFound(t, err)
	}},
	{"missing tokens are not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "existing-token-key")
		_, err := s.TokenByHash(t.Context(), hashOf("unknown-token-key"))
		requireNotFound(t, err)
		_, err = s.TokenByHash(t.Context(), [32]byte{})
		requireNotFound(t, err)
		missing := tk.ID + 1000
		_, err = s.TokenByID(t.Context(), missing)
		requireNotFound(t, err)
		requireNotFound(t, s.RevokeToken(t.Context(), missing))
		requireNotFound(t, s.TouchToken(t.Context(), missing, day(1)))
	}},
	{"RevokeToken marks only that token revoked, idempotently", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "revoked-token-key")
		other := createToken(t, s, u.ID, "kept-token-key")
		require.NoError(t, s.RevokeToken(t.Context(), tk.ID))
		require.NoError(t, s.RevokeToken(t.Context(), tk.ID), "revoking twice is not an error")

		want := *tk
		want.Revoked = true
		got, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err, "a revoked token can still be looked up")
		requireTokenEqual(t, &want, got)
		got, err = s.TokenByID(t.Context(), tk.ID)
		require.NoError(t, err)
		requireTokenEqual(t, &want, got)
		got, err = s.TokenByID(t.Context(), other.ID)
		require.NoError(t, err)
		assert.False(t, got.Revoked)
	}},
	{"TouchToken sets LastSeen and nothing else", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "touched-token-key")
		other := createToken(t, s, u.ID, "untouched-token-key")
		require.NoError(t, s.TouchToken(t.Context(), tk.ID, day(10)))
		require.NoError(t, s.TouchToken(t.Context(), tk.ID, day(11)))

		want := *tk
		want.LastSeen = day(11)
		got, err := s.TokenByHash(t.Context(), tk.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, &want, got)
		got, err = s.TokenByID(t.Context(), other.ID)
		require.NoError(t, err)
		assert.True(t, got.LastSeen.IsZero())
	}},
	{"Tokens lists the user's tokens, revoked and expired included, ordered by ID", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		t1 := createToken(t, s, a.ID, "token-one-key")
		createToken(t, s, b.ID, "token-of-b-key")
		expired := sampleToken(a.ID, "expired-token-key")
		expired.Expiry = day(-400)
		require.NoError(t, s.CreateToken(t.Context(), expired))
		t3 := createToken(t, s, a.ID, "revoked-token-key")
		require.NoError(t, s.RevokeToken(t.Context(), t3.ID))

		list, err := s.Tokens(t.Context(), a.ID)
		require.NoError(t, err)
		ids := make([]int64, len(list))
		for i, tk := range list {
			ids[i] = tk.ID
			assert.Equal(t, a.ID, tk.UserID)
		}
		assert.Equal(t, []int64{t1.ID, expired.ID, t3.ID}, ids)
		requireAscending(t, ids)
		requireTokenEqual(t, expired, &list[1])
		assert.True(t, list[2].Revoked)
	}},
	{"SealedKey round-trips through TokenByID and Tokens; nil stays nil", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		plain := createToken(t, s, u.ID, "plain-token-key")
		sealed := sampleToken(u.ID, "sealed-token-key")
		sealed.SealedKey = []byte{0, 1, 2, 0xfe, 0xff, 0}
		require.NoError(t, s.CreateToken(t.Context(), sealed))

		got, err := s.TokenByID(t.Context(), sealed.ID)
		require.NoError(t, err)
		requireTokenEqual(t, sealed, got)
		got, err = s.TokenByID(t.Context(), plain.ID)
		require.NoError(t, err)
		assert.Nil(t, got.SealedKey, "a token without a sealed key reads back nil, not empty")
		list, err := s.Tokens(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		assert.Nil(t, list[0].SealedKey)
		requireTokenEqual(t, sealed, &list[1])

		// Authentication may leave the sealed key out; nothing else may differ.
		got, err = s.TokenByHash(t.Context(), sealed.KeyHash)
		require.NoError(t, err)
		want := *sealed
		want.SealedKey = got.SealedKey
		if got.SealedKey != nil {
			assert.Equal(t, sealed.SealedKey, got.SealedKey)
		}
		requireTokenEqual(t, &want, got)

		// The stored bytes are the store's own: changing the caller's or a returned copy
		// changes nothing stored.
		sealed.SealedKey[0] = 9
		list[1].SealedKey[1] = 9
		got, err = s.TokenByID(t.Context(), sealed.ID)
		require.NoError(t, err)
		assert.Equal(t, []byte{0, 1, 2, 0xfe, 0xff, 0}, got.SealedKey)
	}},
	{"returned tokens are copies", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		tk := createToken(t, s, u.ID, "copied-token-key")
		want := *tk
		tk.Revoked, tk.Name, tk.KeyHash = true, "changed", [32]byte{1} // the caller's struct

		got, err := s.TokenByHash(t.Context(), want.KeyHash)
		require.NoError(t, err)
		got.Revoked, got.Name = true, "changed"
		got, err = s.TokenByID(t.Context(), want.ID)
		require.NoError(t, err)
		got.LastSeen = day(5)
		list, err := s.Tokens(t.Context(), u.ID)
		require.NoError(t, err)
		list[0].Revoked = true

		got, err = s.TokenByHash(t.Context(), want.KeyHash)
		require.NoError(t, err)
		requireTokenEqual(t, &want, got)
		_, err = s.TokenByHash(t.Context(), [32]byte{1})
		requireNotFound(t, err)
	}},
}
