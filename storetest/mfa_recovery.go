package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// codeHashes returns n distinct recovery-code hashes derived from prefix.
func codeHashes(prefix string, n int) [][32]byte {
	hs := make([][32]byte, n)
	for i := range hs {
		hs[i] = hashOf(fmt.Sprintf("%s-recovery-%02d", prefix, i))
	}
	return hs
}

func recoveryCodes(t *testing.T, s restauth.Store, userID int64) []restauth.RecoveryCode {
	t.Helper()
	list, err := s.RecoveryCodes(t.Context(), userID)
	require.NoError(t, err)
	return list
}

func replaceCodes(t *testing.T, s restauth.Store, userID int64, hashes [][32]byte) []restauth.RecoveryCode {
	t.Helper()
	require.NoError(t, s.ReplaceRecoveryCodes(t.Context(), userID, hashes))
	list := recoveryCodes(t, s, userID)
	require.Len(t, list, len(hashes))
	return list
}

func codeIDs(cs []restauth.RecoveryCode) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func codeHashList(cs []restauth.RecoveryCode) [][32]byte {
	hs := make([][32]byte, len(cs))
	for i, c := range cs {
		hs[i] = c.Hash
	}
	return hs
}

func normCode(c restauth.RecoveryCode) restauth.RecoveryCode {
	c.Used = normTime(c.Used)
	return c
}

func normCodes(cs []restauth.RecoveryCode) []restauth.RecoveryCode {
	out := make([]restauth.RecoveryCode, len(cs))
	for i, c := range cs {
		out[i] = normCode(c)
	}
	return out
}

// requireFreshCodes checks that cs are unused codes of the user holding hashes in order,
// with positive ascending IDs.
func requireFreshCodes(t *testing.T, cs []restauth.RecoveryCode, userID int64, hashes [][32]byte) {
	t.Helper()
	require.Len(t, cs, len(hashes))
	for i, c := range cs {
		assert.Positive(t, c.ID, "code %d", i)
		assert.Equal(t, userID, c.UserID, "code %d", i)
		assert.True(t, c.Used.IsZero(), "code %d: Used %v", i, c.Used)
	}
	require.Equal(t, hashes, codeHashList(cs), "hashes in the order given")
	requireAscending(t, codeIDs(cs))
}

// recoveryCodeTests pin down the recovery-code methods and the MFA cascade of DeleteUser.
var recoveryCodeTests = []test{
	{"ReplaceRecoveryCodes stores unused codes of the hashes in order", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		// Hashes not in byte order, so that a store listing by hash fails.
		hashes := [][32]byte{{0xff, 1}, {0x00, 2}, hashOf("c"), {0x80}, hashOf("a"), {}}
		require.NoError(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, hashes))
		list := recoveryCodes(t, s, u.ID)
		requireFreshCodes(t, list, u.ID, hashes)

		ids := map[int64]bool{}
		for _, c := range list {
			assert.False(t, ids[c.ID], "ID %d assigned twice", c.ID)
			ids[c.ID] = true
		}
	}},
	{"ReplaceRecoveryCodes replaces all the old codes", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		old := codeHashes("old", 5)
		replaceCodes(t, s, u.ID, old)
		at := base.Add(time.Hour)
		require.NoError(t, s.UseRecoveryCode(t.Context(), u.ID, old[0], at))

		fresh := codeHashes("new", 3)
		list := replaceCodes(t, s, u.ID, fresh)
		requireFreshCodes(t, list, u.ID, fresh)
		for _, h := range old {
			requireNotFound(t, s.UseRecoveryCode(t.Context(), u.ID, h, at))
		}

		// Replacing with the same hashes gives unused codes again, the used one included.
		list = replaceCodes(t, s, u.ID, fresh)
		requireFreshCodes(t, list, u.ID, fresh)
		require.NoError(t, s.UseRecoveryCode(t.Context(), u.ID, fresh[2], at))
		list = replaceCodes(t, s, u.ID, fresh)
		requireFreshCodes(t, list, u.ID, fresh)
		require.NoError(t, s.UseRecoveryCode(t.Context(), u.ID, fresh[2], at))
	}},
	{"ReplaceRecoveryCodes with no hashes removes all codes", func(t *testing.T, s restauth.Store) {
		for _, hashes := range [][][32]byte{nil, {}} {
			u := createUser(t, s, fmt.Sprint("user-", hashes == nil))
			replaceCodes(t, s, u.ID, codeHashes("a", 4))
			require.NoError(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, hashes))
			assert.Empty(t, recoveryCodes(t, s, u.ID))
			requireNotFound(t, s.UseRecoveryCode(t.Context(), u.ID, codeHashes("a", 1)[0], base))
		}
		u := createUser(t, s, "never")
		require.NoError(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, nil))
		assert.Empty(t, recoveryCodes(t, s, u.ID))
	}},
	{"ReplaceRecoveryCodes for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		missing := u.ID + 1000
		requireNotFound(t, s.ReplaceRecoveryCodes(t.Context(), missing, codeHashes("missing", 2)))
		assert.Empty(t, recoveryCodes(t, s, missing))
		assert.Empty(t, recoveryCodes(t, s, u.ID))
	}},
	{"RecoveryCodes of a user without codes or of an unknown user is empty", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		createDevice(t, s, u.ID, "a")
		replaceCodes(t, s, other.ID, codeHashes("b", 2))
		for _, id := range []int64{u.ID, other.ID + 1000, 0} {
			list, err := s.RecoveryCodes(t.Context(), id)
			require.NoError(t, err, "user %d", id)
			assert.Empty(t, list, "user %d", id)
		}
	}},
	{"recovery codes of two users are independent", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		shared := hashOf("shared code")
		ha := append(codeHashes("a", 2), shared)
		hb := append(codeHashes("b", 3), shared)
		require.NoError(t, s.ReplaceRecoveryCodes(t.Context(), a.ID, ha))
		codesA := recoveryCodes(t, s, a.ID)
		codesB := replaceCodes(t, s, b.ID, hb)
		requireFreshCodes(t, codesA, a.ID, ha)
		requireFreshCodes(t, codesB, b.ID, hb)
		assert.Equal(t, normCodes(codesA), normCodes(recoveryCodes(t, s, a.ID)), "replacing b's codes leaves a's")

		// The same hash held by both is used separately.
		require.NoError(t, s.UseRecoveryCode(t.Context(), a.ID, shared, base))
		require.NoError(t, s.UseRecoveryCode(t.Context(), b.ID, shared, base))

		require.NoError(t, s.ReplaceRecoveryCodes(t.Context(), b.ID, nil))
		list := recoveryCodes(t, s, a.ID)
		require.Len(t, list, len(ha))
		assert.Equal(t, codeIDs(codesA), codeIDs(list))
	}},
	{"UseRecoveryCode marks the code used once", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		hashes := codeHashes("a", 4)
		before := replaceCodes(t, s, u.ID, hashes)
		at := base.Add(26*time.Hour + 987654*time.Microsecond)
		require.NoError(t, s.UseRecoveryCode(t.Context(), u.ID, hashes[2], at))

		want := normCodes(before)
		want[2].Used = at
		after := recoveryCodes(t, s, u.ID)
		assert.Equal(t, want, normCodes(after), "only that code is marked, at at")
		assert.True(t, after[2].Used.Equal(at), "Used: want %v, got %v", at, after[2].Used)

		// Used once: a second use, even at another time, is refused and changes nothing.
		requireNotFound(t, s.UseRecoveryCode(t.Context(), u.ID, hashes[2], at.Add(time.Hour)))
		assert.Equal(t, want, normCodes(recoveryCodes(t, s, u.ID)))

		// The other codes still work.
		at2 := at.Add(time.Minute)
		require.NoError(t, s.UseRecoveryCode(t.Context(), u.ID, hashes[0], at2))
		want[0].Used = at2
		assert.Equal(t, want, normCodes(recoveryCodes(t, s, u.ID)))
	}},
	{"UseRecoveryCode refuses unknown hashes, other users' codes and unknown users", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		codesA := replaceCodes(t, s, a.ID, codeHashes("a", 2))
		codesB := replaceCodes(t, s, b.ID, codeHashes("b", 2))

		requireNotFound(t, s.UseRecoveryCode(t.Context(), a.ID, hashOf("unknown"), base))
		requireNotFound(t, s.UseRecoveryCode(t.Context(), a.ID, [32]byte{}, base))
		requireNotFound(t, s.UseRecoveryCode(t.Context(), a.ID, codesB[0].Hash, base))
		requireNotFound(t, s.UseRecoveryCode(t.Context(), b.ID+1000, codesB[0].Hash, base))
		requireNotFound(t, s.UseRecoveryCode(t.Context(), 0, codesA[0].Hash, base))

		assert.Equal(t, normCodes(codesA), normCodes(recoveryCodes(t, s, a.ID)))
		assert.Equal(t, normCodes(codesB), normCodes(recoveryCodes(t, s, b.ID)), "b's codes stay unused")
		require.NoError(t, s.UseRecoveryCode(t.Context(), b.ID, codesB[0].Hash, base))
	}},
	{"returned recovery codes are copies", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		hashes := codeHashes("a", 3)
		require.NoError(t, s.ReplaceRecoveryCodes(t.Context(), u.ID, hashes))
		want := append([][32]byte(nil), hashes...)
		hashes[0] = hashOf("changed") // the caller's slice

		list := recoveryCodes(t, s, u.ID)
		requireFreshCodes(t, list, u.ID, want)
		list[0].Used, list[1].Hash, list[2].UserID = base, hashOf("changed"), u.ID+1

		requireFreshCodes(t, recoveryCodes(t, s, u.ID), u.ID, want)
		requireNotFound(t, s.UseRecoveryCode(t.Context(), u.ID, hashOf("changed"), base))
	}},
	{"DeleteUser removes the TOTP device and recovery codes", func(t *testing.T, s restauth.Store) {
		gone := createUser(t, s, "gone")
		kept := createUser(t, s, "kept")
		gd := createDevice(t, s, gone.ID, "gone")
		goneHashes := codeHashes("gone", 3)
		replaceCodes(t, s, gone.ID, goneHashes)
		kd := createDevice(t, s, kept.ID, "kept")
		keptCodes := replaceCodes(t, s, kept.ID, codeHashes("kept", 3))

		require.NoError(t, s.DeleteUser(t.Context(), gone.ID))
		requireNoDevice(t, s, gone.ID)
		assert.Empty(t, recoveryCodes(t, s, gone.ID))
		_, err := s.UseTOTPStep(t.Context(), gone.ID, gd.SealedSecret, 1, true)
		requireNotFound(t, err)
		requireNotFound(t, s.UseRecoveryCode(t.Context(), gone.ID, goneHashes[0], base))
		requireNotFound(t, s.CreateTOTPDevice(t.Context(), sampleDevice(gone.ID, "gone")))
		requireNotFound(t, s.ReplaceRecoveryCodes(t.Context(), gone.ID, goneHashes))
		assert.Empty(t, recoveryCodes(t, s, gone.ID))

		requireDevice(t, s, kd)
		assert.Equal(t, normCodes(keptCodes), normCodes(recoveryCodes(t, s, kept.ID)))

		// A new user of the same name starts without MFA.
		again := createUser(t, s, "gone")
		requireNoDevice(t, s, again.ID)
		assert.Empty(t, recoveryCodes(t, s, again.ID))
	}},
}
