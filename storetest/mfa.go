package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// sealedSecret returns opaque bytes standing for a sealed TOTP secret: NUL and 0xff bytes
// and invalid UTF-8 around name, so that a store keeping the secret as text or as a
// NUL-terminated string fails.
func sealedSecret(name string) []byte {
	b := []byte{0x00, 0xff, 0x00, 0x80, 0xfe, 0xc3, 0x28}
	b = append(b, name...)
	return append(b, 0xff, 0x00)
}

func sampleDevice(userID int64, name string) *restauth.TOTPDevice {
	return &restauth.TOTPDevice{UserID: userID, SealedSecret: sealedSecret(name), Created: base}
}

func createDevice(t *testing.T, s restauth.Store, userID int64, name string) *restauth.TOTPDevice {
	t.Helper()
	d := sampleDevice(userID, name)
	require.NoError(t, s.CreateTOTPDevice(t.Context(), d))
	return d
}

func normDevice(d restauth.TOTPDevice) restauth.TOTPDevice {
	d.Created = normTime(d.Created)
	return d
}

func requireDeviceEqual(t *testing.T, want, got *restauth.TOTPDevice) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, normDevice(*want), normDevice(*got))
	require.True(t, want.Created.Equal(got.Created), "Created: want %v, got %v", want.Created, got.Created)
}

// requireDevice checks that the user's stored device equals want.
func requireDevice(t *testing.T, s restauth.Store, want *restauth.TOTPDevice) {
	t.Helper()
	got, err := s.TOTPDevice(t.Context(), want.UserID)
	require.NoError(t, err)
	requireDeviceEqual(t, want, got)
}

func requireNoDevice(t *testing.T, s restauth.Store, userID int64) {
	t.Helper()
	_, err := s.TOTPDevice(t.Context(), userID)
	requireNotFound(t, err)
}

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

var mfaTests = []test{
	{"TOTPDevice of a user without a device or of an unknown user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		createDevice(t, s, other.ID, "b")
		requireNoDevice(t, s, u.ID)
		requireNoDevice(t, s, other.ID+1000)
		requireNoDevice(t, s, 0)
	}},
	{"CreateTOTPDevice stores every field", func(t *testing.T, s restauth.Store) {
		cases := []struct {
			name   string
			device restauth.TOTPDevice
		}{
			{"pending", restauth.TOTPDevice{SealedSecret: sealedSecret("pending"), Created: base}},
			{"confirmed with a last step", restauth.TOTPDevice{
				SealedSecret: sealedSecret("confirmed"), Confirmed: true, Created: base.Add(36*time.Hour + 654321*time.Microsecond), LastStep: 57725147,
			}},
			{"all byte values", restauth.TOTPDevice{SealedSecret: func() []byte {
				b := make([]byte, 256)
				for i := range b {
					b[i] = byte(255 - i)
				}
				return b
			}(), Created: base.Add(-time.Microsecond), LastStep: 1}},
			{"large last step", restauth.TOTPDevice{SealedSecret: []byte{0xff}, Confirmed: true, Created: base, LastStep: 1 << 40}},
		}
		for _, tc := range cases {
			u := createUser(t, s, "user-"+tc.name)
			d := tc.device
			d.UserID = u.ID
			want := d
			want.SealedSecret = bytes.Clone(d.SealedSecret)
			require.NoError(t, s.CreateTOTPDevice(t.Context(), &d), tc.name)
			got, err := s.TOTPDevice(t.Context(), u.ID)
			require.NoError(t, err, tc.name)
			requireDeviceEqual(t, &want, got)
			assert.Equal(t, want.SealedSecret, got.SealedSecret, "%s: SealedSecret bytes", tc.name)
		}
	}},
	{"CreateTOTPDevice for a missing user is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		missing := u.ID + 1000
		requireNotFound(t, s.CreateTOTPDevice(t.Context(), sampleDevice(missing, "missing")))
		requireNoDevice(t, s, missing)
		requireNoDevice(t, s, u.ID)
	}},
	{"a user has at most one TOTP device", func(t *testing.T, s restauth.Store) {
		for _, confirmed := range []bool{false, true} {
			u := createUser(t, s, fmt.Sprint("user-", confirmed))
			first := createDevice(t, s, u.ID, "first")
			if confirmed {
				ok, err := s.UseTOTPStep(t.Context(), u.ID, 100, true)
				require.NoError(t, err)
				require.True(t, ok)
				first.Confirmed, first.LastStep = true, 100
			}
			second := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("second"), Created: base.Add(time.Hour), LastStep: 5}
			requireConflict(t, s.CreateTOTPDevice(t.Context(), second), "totp")
			requireConflict(t, s.CreateTOTPDevice(t.Context(), sampleDevice(u.ID, "first")), "totp")
			requireDevice(t, s, first)
		}
	}},
	{"TOTP devices of two users are independent", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		da := createDevice(t, s, a.ID, "a")
		db := createDevice(t, s, b.ID, "b")
		require.NotEqual(t, da.SealedSecret, db.SealedSecret)
		requireDevice(t, s, da)
		requireDevice(t, s, db)

		ok, err := s.UseTOTPStep(t.Context(), a.ID, 7, true)
		require.NoError(t, err)
		require.True(t, ok)
		requireDevice(t, s, db)
		ok, err = s.UseTOTPStep(t.Context(), b.ID, 7, false)
		require.NoError(t, err)
		assert.True(t, ok, "the step was used by another user only")

		require.NoError(t, s.DeleteTOTPDevice(t.Context(), b.ID))
		requireNoDevice(t, s, b.ID)
		da.Confirmed, da.LastStep = true, 7
		requireDevice(t, s, da)
	}},
	{"returned TOTP devices and their secrets are copies", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		d := sampleDevice(u.ID, "copied")
		require.NoError(t, s.CreateTOTPDevice(t.Context(), d))
		want := *d
		want.SealedSecret = bytes.Clone(d.SealedSecret)
		d.SealedSecret[0], d.SealedSecret[1] = 'X', 'Y' // the caller's slice
		d.Confirmed, d.LastStep = true, 99              // the caller's struct

		got, err := s.TOTPDevice(t.Context(), u.ID)
		require.NoError(t, err)
		got.SealedSecret[0], got.SealedSecret[len(got.SealedSecret)-1] = 'Z', 'Z'
		got.Confirmed, got.LastStep, got.Created = true, 99, base.Add(time.Hour)

		requireDevice(t, s, &want)
		ok, err := s.UseTOTPStep(t.Context(), u.ID, 1, false)
		require.NoError(t, err)
		assert.True(t, ok, "LastStep is still 0 in the store")
	}},
	{"UseTOTPStep accepts only steps after the last one", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		d := createDevice(t, s, u.ID, "a")
		want := *d
		want.SealedSecret = bytes.Clone(d.SealedSecret)
		steps := []struct {
			step     int64
			accepted bool
			lastStep int64
		}{
			{1000, true, 1000},
			{1000, false, 1000}, // the same step again
			{999, false, 1000},  // an earlier step
			{0, false, 1000},
			{-1, false, 1000},
			{1001, true, 1001},
			{1001, false, 1001},
			{1005, true, 1005}, // steps may be skipped
			{1002, false, 1005},
		}
		for i, st := range steps {
			ok, err := s.UseTOTPStep(t.Context(), u.ID, st.step, false)
			require.NoError(t, err, "call %d (step %d)", i, st.step)
			require.Equal(t, st.accepted, ok, "call %d (step %d)", i, st.step)
			want.LastStep = st.lastStep
			requireDevice(t, s, &want) // only LastStep changes; the device stays pending
		}
	}},
	{"UseTOTPStep sets Confirmed only when it accepts a step with confirm", func(t *testing.T, s restauth.Store) {
		cases := []struct {
			name          string
			confirmed     bool
			lastStep      int64
			step          int64
			confirm       bool
			wantAccepted  bool
			wantConfirmed bool
			wantLastStep  int64
		}{
			{"pending, confirm", false, 0, 10, true, true, true, 10},
			{"pending, no confirm", false, 0, 10, false, true, false, 10},
			{"confirmed, confirm", true, 5, 10, true, true, true, 10},
			{"confirmed, no confirm", true, 5, 10, false, true, true, 10},
			{"pending, refused step with confirm", false, 10, 10, true, false, false, 10},
			{"pending, earlier step with confirm", false, 10, 9, true, false, false, 10},
			{"confirmed, refused step without confirm", true, 10, 10, false, false, true, 10},
		}
		for _, tc := range cases {
			u := createUser(t, s, "user "+tc.name)
			d := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret(tc.name), Confirmed: tc.confirmed, Created: base, LastStep: tc.lastStep}
			require.NoError(t, s.CreateTOTPDevice(t.Context(), d), tc.name)
			ok, err := s.UseTOTPStep(t.Context(), u.ID, tc.step, tc.confirm)
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.wantAccepted, ok, "%s: accepted", tc.name)
			got, err := s.TOTPDevice(t.Context(), u.ID)
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.wantConfirmed, got.Confirmed, "%s: Confirmed", tc.name)
			assert.Equal(t, tc.wantLastStep, got.LastStep, "%s: LastStep", tc.name)
			assert.Equal(t, d.SealedSecret, got.SealedSecret, "%s: SealedSecret", tc.name)
			assert.True(t, d.Created.Equal(got.Created), "%s: Created %v", tc.name, got.Created)
		}

		// A confirmed device stays confirmed through later steps used without confirm.
		u := createUser(t, s, "later")
		createDevice(t, s, u.ID, "later")
		for i, confirm := range []bool{true, false, false} {
			ok, err := s.UseTOTPStep(t.Context(), u.ID, int64(20+i), confirm)
			require.NoError(t, err)
			require.True(t, ok)
			got, err := s.TOTPDevice(t.Context(), u.ID)
			require.NoError(t, err)
			assert.True(t, got.Confirmed, "after step %d", 20+i)
		}
	}},
	{"UseTOTPStep without a device is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		od := createDevice(t, s, other.ID, "b")
		for _, id := range []int64{u.ID, other.ID + 1000} {
			ok, err := s.UseTOTPStep(t.Context(), id, 1, true)
			requireNotFound(t, err)
			assert.False(t, ok)
		}
		requireNoDevice(t, s, u.ID)
		requireDevice(t, s, od)

		createDevice(t, s, u.ID, "a")
		require.NoError(t, s.DeleteTOTPDevice(t.Context(), u.ID))
		ok, err := s.UseTOTPStep(t.Context(), u.ID, 1, true)
		requireNotFound(t, err)
		assert.False(t, ok)
		requireNoDevice(t, s, u.ID)
	}},
	{"DeleteTOTPDevice removes the device and the user's recovery codes only", func(t *testing.T, s restauth.Store) {
		gone := createUser(t, s, "gone")
		kept := createUser(t, s, "kept")
		createDevice(t, s, gone.ID, "gone")
		ok, err := s.UseTOTPStep(t.Context(), gone.ID, 50, true)
		require.NoError(t, err)
		require.True(t, ok)
		goneHashes := codeHashes("gone", 3)
		replaceCodes(t, s, gone.ID, goneHashes)
		require.NoError(t, s.UseRecoveryCode(t.Context(), gone.ID, goneHashes[1], base))
		kd := createDevice(t, s, kept.ID, "kept")
		keptCodes := replaceCodes(t, s, kept.ID, codeHashes("kept", 4))

		require.NoError(t, s.DeleteTOTPDevice(t.Context(), gone.ID))
		requireNoDevice(t, s, gone.ID)
		assert.Empty(t, recoveryCodes(t, s, gone.ID))
		for _, h := range goneHashes {
			requireNotFound(t, s.UseRecoveryCode(t.Context(), gone.ID, h, base))
		}

		// The other user keeps everything, and the user stays.
		requireDevice(t, s, kd)
		assert.Equal(t, normCodes(keptCodes), normCodes(recoveryCodes(t, s, kept.ID)))
		_, err = s.UserByID(t.Context(), gone.ID)
		require.NoError(t, err, "the user stays")

		// A new enrolment starts afresh.
		again := &restauth.TOTPDevice{UserID: gone.ID, SealedSecret: sealedSecret("again"), Created: base.Add(time.Hour)}
		require.NoError(t, s.CreateTOTPDevice(t.Context(), again))
		requireDevice(t, s, again)
		ok, err = s.UseTOTPStep(t.Context(), gone.ID, 1, false)
		require.NoError(t, err)
		assert.True(t, ok, "the old device's LastStep is gone")
	}},
	{"DeleteTOTPDevice of nothing is not an error", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		od := createDevice(t, s, other.ID, "b")
		otherCodes := replaceCodes(t, s, other.ID, codeHashes("b", 2))

		require.NoError(t, s.DeleteTOTPDevice(t.Context(), u.ID), "a user without a device")
		require.NoError(t, s.DeleteTOTPDevice(t.Context(), other.ID+1000), "an unknown user")
		require.NoError(t, s.DeleteTOTPDevice(t.Context(), 0), "ID 0")
		requireNoDevice(t, s, u.ID)

		// Codes without a device go too.
		replaceCodes(t, s, u.ID, codeHashes("a", 2))
		require.NoError(t, s.DeleteTOTPDevice(t.Context(), u.ID))
		assert.Empty(t, recoveryCodes(t, s, u.ID))

		createDevice(t, s, u.ID, "a")
		require.NoError(t, s.DeleteTOTPDevice(t.Context(), u.ID))
		require.NoError(t, s.DeleteTOTPDevice(t.Context(), u.ID), "deleting twice")
		requireNoDevice(t, s, u.ID)

		requireDevice(t, s, od)
		assert.Equal(t, normCodes(otherCodes), normCodes(recoveryCodes(t, s, other.ID)))
	}},
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
		createDevice(t, s, gone.ID, "gone")
		goneHashes := codeHashes("gone", 3)
		replaceCodes(t, s, gone.ID, goneHashes)
		kd := createDevice(t, s, kept.ID, "kept")
		keptCodes := replaceCodes(t, s, kept.ID, codeHashes("kept", 3))

		require.NoError(t, s.DeleteUser(t.Context(), gone.ID))
		requireNoDevice(t, s, gone.ID)
		assert.Empty(t, recoveryCodes(t, s, gone.ID))
		_, err := s.UseTOTPStep(t.Context(), gone.ID, 1, true)
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
	{"one of 20 concurrent uses of a TOTP step succeeds", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		d := createDevice(t, s, u.ID, "a")
		const n = 20
		ctx := t.Context()
		oks := make([]bool, n)
		errs := make([]error, n)
		startTogether(n, func(i int) {
			oks[i], errs[i] = s.UseTOTPStep(ctx, u.ID, 4242, true)
		})
		require.NoError(t, errors.Join(errs...))
		accepted := 0
		for _, ok := range oks {
			if ok {
				accepted++
			}
		}
		require.Equal(t, 1, accepted, "accepted %d times", accepted)
		want := *d
		want.Confirmed, want.LastStep = true, 4242
		requireDevice(t, s, &want)
	}},
	{"concurrent uses of increasing TOTP steps never lower LastStep", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		createDevice(t, s, u.ID, "a")
		const n = 20
		ctx := t.Context()
		oks := make([]bool, n)
		errs := make([]error, n)
		startTogether(n, func(i int) {
			oks[i], errs[i] = s.UseTOTPStep(ctx, u.ID, int64(i+1), false)
		})
		require.NoError(t, errors.Join(errs...))
		assert.True(t, oks[n-1], "the highest step is always accepted")
		got, err := s.TOTPDevice(ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(n), got.LastStep)
		assert.False(t, got.Confirmed)
		for step := int64(1); step <= n; step++ {
			ok, err := s.UseTOTPStep(ctx, u.ID, step, false)
			require.NoError(t, err)
			assert.False(t, ok, "step %d accepted after step %d", step, n)
		}
	}},
	{"one of 20 concurrent uses of a recovery code succeeds", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		hashes := codeHashes("a", 3)
		replaceCodes(t, s, u.ID, hashes)
		const n = 20
		ctx := t.Context()
		errs := make([]error, n)
		startTogether(n, func(i int) {
			errs[i] = s.UseRecoveryCode(ctx, u.ID, hashes[1], base.Add(time.Duration(i)*time.Second))
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("two uses succeeded: %d and %d", winner, i)
				}
				winner = i
				continue
			}
			requireNotFound(t, err)
		}
		require.NotEqual(t, -1, winner, "no use succeeded")
		list := recoveryCodes(t, s, u.ID)
		require.Len(t, list, len(hashes))
		assert.True(t, list[0].Used.IsZero())
		assert.True(t, list[2].Used.IsZero())
		want := base.Add(time.Duration(winner) * time.Second)
		assert.True(t, list[1].Used.Equal(want), "Used is the winner's time: want %v, got %v", want, list[1].Used)
	}},
	{"one of 20 concurrent TOTP device creations succeeds", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		const n = 20
		ctx := t.Context()
		devices := make([]*restauth.TOTPDevice, n)
		errs := make([]error, n)
		startTogether(n, func(i int) {
			devices[i] = sampleDevice(u.ID, fmt.Sprintf("racer-%02d", i))
			errs[i] = s.CreateTOTPDevice(ctx, devices[i])
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("two creations succeeded: %d and %d", winner, i)
				}
				winner = i
				continue
			}
			requireConflict(t, err, "totp")
		}
		require.NotEqual(t, -1, winner, "no creation succeeded")
		requireDevice(t, s, devices[winner])
	}},
}
