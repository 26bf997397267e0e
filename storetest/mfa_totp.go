package storetest

import (
	"bytes"
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

// useStep calls UseTOTPStep with the device's secret and requires no error.
func useStep(t *testing.T, s restauth.Store, d *restauth.TOTPDevice, step int64, confirm bool) bool {
	t.Helper()
	ok, err := s.UseTOTPStep(t.Context(), d.UserID, d.SealedSecret, step, confirm)
	require.NoError(t, err, "UseTOTPStep(step %d, confirm %v)", step, confirm)
	return ok
}

// confirmDevice confirms the pending device d with step, through UseTOTPStep, and records
// the change in d.
func confirmDevice(t *testing.T, s restauth.Store, d *restauth.TOTPDevice, step int64) {
	t.Helper()
	require.True(t, useStep(t, s, d, step, true), "confirming the pending device")
	d.Confirmed, d.LastStep = true, step
}

// racingDevices returns n pending devices of the user differing in every field but UserID,
// so that a stored mix of two of them is told apart from each one.
func racingDevices(userID int64, n int) []*restauth.TOTPDevice {
	ds := make([]*restauth.TOTPDevice, n)
	for i := range ds {
		ds[i] = &restauth.TOTPDevice{
			UserID:       userID,
			SealedSecret: sealedSecret(fmt.Sprintf("racer-%02d", i)),
			Created:      base.Add(time.Duration(i+1)*time.Minute + time.Duration(i)*time.Microsecond),
			LastStep:     int64(1000 + 10*i),
		}
	}
	return ds
}

// requireOneOfDevices checks that the user's stored device is one of ds, whole, and
// returns its index.
func requireOneOfDevices(t *testing.T, s restauth.Store, userID int64, ds []*restauth.TOTPDevice) int {
	t.Helper()
	got, err := s.TOTPDevice(t.Context(), userID)
	require.NoError(t, err)
	for i, d := range ds {
		if bytes.Equal(d.SealedSecret, got.SealedSecret) {
			requireDeviceEqual(t, d, got) // that device's fields, not a mix of several
			return i
		}
	}
	require.Failf(t, "the stored device is none of the created ones", "SealedSecret %q", got.SealedSecret)
	return -1
}

// totpTests pin down the TOTP device methods.
var totpTests = []test{
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
	{"CreateTOTPDevice replaces a pending device", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		od := createDevice(t, s, other.ID, "b")
		first := createDevice(t, s, u.ID, "first")
		require.True(t, useStep(t, s, first, 100, false))

		// Every field comes from the new device, LastStep included (not kept, not the max).
		second := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("second"), Created: base.Add(time.Hour), LastStep: 5}
		require.NoError(t, s.CreateTOTPDevice(t.Context(), second))
		requireDevice(t, s, second)

		// The same secret again replaces too; so does a device created confirmed.
		again := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("second"), Created: base.Add(2 * time.Hour), LastStep: 3}
		require.NoError(t, s.CreateTOTPDevice(t.Context(), again))
		requireDevice(t, s, again)
		confirmed := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("third"), Confirmed: true, Created: base.Add(3 * time.Hour), LastStep: 7}
		require.NoError(t, s.CreateTOTPDevice(t.Context(), confirmed))
		requireDevice(t, s, confirmed)

		// Still one device per user: the other user's stays.
		requireDevice(t, s, od)
	}},
	{"CreateTOTPDevice conflicts with a confirmed device and changes nothing", func(t *testing.T, s restauth.Store) {
		for _, how := range []string{"confirmed by UseTOTPStep", "created confirmed"} {
			u := createUser(t, s, "user "+how)
			var first *restauth.TOTPDevice
			if how == "created confirmed" {
				first = &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("first"), Confirmed: true, Created: base, LastStep: 42}
				require.NoError(t, s.CreateTOTPDevice(t.Context(), first), how)
			} else {
				first = createDevice(t, s, u.ID, "first")
				confirmDevice(t, s, first, 100)
			}
			attempts := []*restauth.TOTPDevice{
				{UserID: u.ID, SealedSecret: sealedSecret("second"), Created: base.Add(time.Hour), LastStep: 5},
				{UserID: u.ID, SealedSecret: sealedSecret("second"), Confirmed: true, Created: base.Add(time.Hour), LastStep: 500},
				sampleDevice(u.ID, "first"), // the same secret, pending
			}
			for _, d := range attempts {
				requireConflict(t, s.CreateTOTPDevice(t.Context(), d), "totp")
				requireDevice(t, s, first)
			}
			// The confirmed device still works, with its own secret only.
			assert.False(t, useStep(t, s, attempts[0], first.LastStep+1, false), "%s: the refused device's secret", how)
			assert.True(t, useStep(t, s, first, first.LastStep+1, false), how)
		}
	}},
	{"replacing a pending device resets LastStep to the new device's", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		old := createDevice(t, s, u.ID, "old")
		require.True(t, useStep(t, s, old, 5000, false))
		require.False(t, useStep(t, s, old, 10, false))

		// A lower LastStep replaces a higher one, and steps above it are accepted again.
		fresh := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("fresh"), Created: base.Add(time.Minute), LastStep: 3}
		require.NoError(t, s.CreateTOTPDevice(t.Context(), fresh))
		requireDevice(t, s, fresh)
		assert.False(t, useStep(t, s, fresh, 3, false), "the new device's LastStep holds")
		assert.True(t, useStep(t, s, fresh, 10, false), "the old device's LastStep is gone")
		fresh.LastStep = 10
		requireDevice(t, s, fresh)

		// Zero, too.
		zero := createDevice(t, s, u.ID, "zero")
		requireDevice(t, s, zero)
		assert.True(t, useStep(t, s, zero, 1, true))
		zero.Confirmed, zero.LastStep = true, 1
		requireDevice(t, s, zero)
	}},
	{"TOTP devices of two users are independent", func(t *testing.T, s restauth.Store) {
		a := createUser(t, s, "a")
		b := createUser(t, s, "b")
		da := createDevice(t, s, a.ID, "a")
		db := createDevice(t, s, b.ID, "b")
		require.NotEqual(t, da.SealedSecret, db.SealedSecret)
		requireDevice(t, s, da)
		requireDevice(t, s, db)

		require.True(t, useStep(t, s, da, 7, true))
		requireDevice(t, s, db)
		ok, err := s.UseTOTPStep(t.Context(), b.ID, da.SealedSecret, 8, false)
		require.NoError(t, err)
		assert.False(t, ok, "another user's secret")
		requireDevice(t, s, db)
		assert.True(t, useStep(t, s, db, 7, false), "the step was used by another user only")

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
		assert.False(t, useStep(t, s, d, 1, false), "the store kept the caller's changed secret")
		assert.False(t, useStep(t, s, got, 1, false), "the store kept the returned changed secret")
		assert.True(t, useStep(t, s, &want, 1, false), "LastStep is still 0 in the store")
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
			ok, err := s.UseTOTPStep(t.Context(), u.ID, d.SealedSecret, st.step, false)
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
			{"confirmed, confirm", true, 5, 10, true, false, true, 5},
			{"confirmed, no confirm", true, 5, 10, false, true, true, 10},
			{"confirmed, refused step with confirm", true, 10, 10, true, false, true, 10},
			{"pending, refused step with confirm", false, 10, 10, true, false, false, 10},
			{"pending, earlier step with confirm", false, 10, 9, true, false, false, 10},
			{"confirmed, refused step without confirm", true, 10, 10, false, false, true, 10},
		}
		for _, tc := range cases {
			u := createUser(t, s, "user "+tc.name)
			d := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret(tc.name), Confirmed: tc.confirmed, Created: base, LastStep: tc.lastStep}
			require.NoError(t, s.CreateTOTPDevice(t.Context(), d), tc.name)
			ok, err := s.UseTOTPStep(t.Context(), u.ID, d.SealedSecret, tc.step, tc.confirm)
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
		d := createDevice(t, s, u.ID, "later")
		for i, confirm := range []bool{true, false, false} {
			require.True(t, useStep(t, s, d, int64(20+i), confirm), "step %d", 20+i)
			got, err := s.TOTPDevice(t.Context(), u.ID)
			require.NoError(t, err)
			assert.True(t, got.Confirmed, "after step %d", 20+i)
		}
	}},
	{"UseTOTPStep confirms a device once", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		d := createDevice(t, s, u.ID, "a")
		confirmDevice(t, s, d, 100)
		requireDevice(t, s, d)

		// Confirming again is refused, whatever the step, and changes nothing.
		for _, step := range []int64{101, 1000, 1 << 40, 100, 50} {
			assert.False(t, useStep(t, s, d, step, true), "confirm with step %d", step)
			requireDevice(t, s, d)
		}

		// Steps used without confirm still work on the confirmed device, once each.
		assert.True(t, useStep(t, s, d, 101, false))
		d.LastStep = 101
		requireDevice(t, s, d)
		assert.False(t, useStep(t, s, d, 101, false), "the same step again")
		assert.False(t, useStep(t, s, d, 102, true), "confirm after steps without it")
		assert.True(t, useStep(t, s, d, 105, false))
		d.LastStep = 105
		requireDevice(t, s, d)
	}},
	{"UseTOTPStep with another secret than the device's changes nothing", func(t *testing.T, s restauth.Store) {
		for _, confirmed := range []bool{false, true} {
			u := createUser(t, s, fmt.Sprint("user-", confirmed))
			d := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("current"), Confirmed: confirmed, Created: base, LastStep: 10}
			require.NoError(t, s.CreateTOTPDevice(t.Context(), d))
			secret := d.SealedSecret
			stale := [][]byte{
				sealedSecret("stale"),          // equal to the current one up to its first NUL byte
				sealedSecret("Current"),        // another case
				secret[:len(secret)-1],         // a prefix
				append(bytes.Clone(secret), 0), // an extension by a NUL byte
				append([]byte{0}, secret...),
				[]byte("current"),
				{},
				nil,
			}
			for i, other := range stale {
				for _, confirm := range []bool{false, true} {
					ok, err := s.UseTOTPStep(t.Context(), u.ID, other, 11, confirm)
					require.NoError(t, err, "confirmed %v, secret %d, confirm %v", confirmed, i, confirm)
					assert.False(t, ok, "confirmed %v, secret %d (%q), confirm %v", confirmed, i, other, confirm)
					requireDevice(t, s, d)
				}
			}
			// The current secret still works, at the step the stale ones were refused (a
			// pending device is confirmed by it).
			assert.True(t, useStep(t, s, d, 11, !confirmed), "confirmed %v", confirmed)
			d.Confirmed, d.LastStep = true, 11
			requireDevice(t, s, d)
		}
	}},
	{"UseTOTPStep with the secret of a replaced device changes nothing", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		old := createDevice(t, s, u.ID, "old")
		require.True(t, useStep(t, s, old, 5, false))
		fresh := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("fresh"), Created: base.Add(time.Minute)}
		require.NoError(t, s.CreateTOTPDevice(t.Context(), fresh))

		// A code checked against the old secret, raced by the re-enrolment, is refused.
		for _, confirm := range []bool{true, false} {
			assert.False(t, useStep(t, s, old, 6, confirm), "confirm %v", confirm)
			requireDevice(t, s, fresh)
		}
		confirmDevice(t, s, fresh, 6)
		requireDevice(t, s, fresh)
		assert.False(t, useStep(t, s, old, 7, false), "the old secret on the confirmed device")
		requireDevice(t, s, fresh)
	}},
	{"UseTOTPStep without a device is not found", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		other := createUser(t, s, "b")
		od := createDevice(t, s, other.ID, "b")
		for _, id := range []int64{u.ID, other.ID + 1000} {
			for _, secret := range [][]byte{sealedSecret("a"), od.SealedSecret, nil} {
				for _, confirm := range []bool{true, false} {
					ok, err := s.UseTOTPStep(t.Context(), id, secret, 1, confirm)
					requireNotFound(t, err)
					assert.False(t, ok)
				}
			}
		}
		requireNoDevice(t, s, u.ID)
		requireDevice(t, s, od)

		d := createDevice(t, s, u.ID, "a")
		require.NoError(t, s.DeleteTOTPDevice(t.Context(), u.ID))
		ok, err := s.UseTOTPStep(t.Context(), u.ID, d.SealedSecret, 1, true)
		requireNotFound(t, err)
		assert.False(t, ok)
		requireNoDevice(t, s, u.ID)
	}},
	{"DeleteTOTPDevice removes the device and the user's recovery codes only", func(t *testing.T, s restauth.Store) {
		gone := createUser(t, s, "gone")
		kept := createUser(t, s, "kept")
		gd := createDevice(t, s, gone.ID, "gone")
		confirmDevice(t, s, gd, 50)
		goneHashes := codeHashes("gone", 3)
		replaceCodes(t, s, gone.ID, goneHashes)
		require.NoError(t, s.UseRecoveryCode(t.Context(), gone.ID, goneHashes[1], base))
		kd := createDevice(t, s, kept.ID, "kept")
		keptCodes := replaceCodes(t, s, kept.ID, codeHashes("kept", 4))

		require.NoError(t, s.DeleteTOTPDevice(t.Context(), gone.ID))
		requireNoDevice(t, s, gone.ID)
		ok, err := s.UseTOTPStep(t.Context(), gone.ID, gd.SealedSecret, 51, false)
		requireNotFound(t, err)
		assert.False(t, ok)
		assert.Empty(t, recoveryCodes(t, s, gone.ID))
		for _, h := range goneHashes {
			requireNotFound(t, s.UseRecoveryCode(t.Context(), gone.ID, h, base))
		}

		// The other user keeps everything, and the user stays.
		requireDevice(t, s, kd)
		assert.Equal(t, normCodes(keptCodes), normCodes(recoveryCodes(t, s, kept.ID)))
		_, err = s.UserByID(t.Context(), gone.ID)
		require.NoError(t, err, "the user stays")

		// A new enrolment, even of the same secret, starts afresh: the old device was
		// confirmed, yet it no longer blocks one.
		again := &restauth.TOTPDevice{UserID: gone.ID, SealedSecret: gd.SealedSecret, Created: base.Add(time.Hour)}
		require.NoError(t, s.CreateTOTPDevice(t.Context(), again))
		requireDevice(t, s, again)
		assert.True(t, useStep(t, s, again, 1, true), "the old device's LastStep and confirmation are gone")
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
}
