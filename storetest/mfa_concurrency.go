package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// raceSteps has 20 goroutines call UseTOTPStep on d's user at once, goroutine i with step
// stepOf(i), and returns what each was told; none may fail.
func raceSteps(t *testing.T, s restauth.Store, d *restauth.TOTPDevice, stepOf func(i int) int64, confirm bool) []bool {
	t.Helper()
	const n = 20
	oks := make([]bool, n)
	errs := make([]error, n)
	startTogether(n, func(i int) {
		oks[i], errs[i] = s.UseTOTPStep(t.Context(), d.UserID, d.SealedSecret, stepOf(i), confirm)
	})
	require.NoError(t, errors.Join(errs...))
	return oks
}

// mfaConcurrencyTests race the single-use and replace-or-conflict rules of the MFA
// methods on one store.
var mfaConcurrencyTests = []test{
	{"one of 20 concurrent uses of a TOTP step succeeds", func(t *testing.T, s restauth.Store) {
		d := createDevice(t, s, createUser(t, s, "a").ID, "a")
		oks := raceSteps(t, s, d, func(int) int64 { return 4242 }, true)
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
		d := createDevice(t, s, createUser(t, s, "a").ID, "a")
		oks := raceSteps(t, s, d, func(i int) int64 { return int64(i + 1) }, false)
		n := len(oks)
		assert.True(t, oks[n-1], "the highest step is always accepted")
		got, err := s.TOTPDevice(t.Context(), d.UserID)
		require.NoError(t, err)
		assert.Equal(t, int64(n), got.LastStep)
		assert.False(t, got.Confirmed)
		for step := int64(1); step <= int64(n); step++ {
			assert.False(t, useStep(t, s, d, step, false), "step %d accepted after step %d", step, n)
		}
	}},
	{"one of 20 concurrent confirmations with different steps succeeds", func(t *testing.T, s restauth.Store) {
		d := createDevice(t, s, createUser(t, s, "a").ID, "a")
		oks := raceSteps(t, s, d, func(i int) int64 { return int64(100 + i) }, true)
		winner := -1
		for i, ok := range oks {
			if ok {
				require.Equal(t, -1, winner, "two confirmations succeeded: steps %d and %d", 100+winner, 100+i)
				winner = i
			}
		}
		require.NotEqual(t, -1, winner, "no confirmation succeeded")
		want := *d
		want.Confirmed, want.LastStep = true, int64(100+winner)
		requireDevice(t, s, &want)
	}},
	{"concurrent TOTP device creations without a confirmed device all succeed and leave one whole", func(t *testing.T, s restauth.Store) {
		for _, start := range []string{"no device", "a pending device"} {
			u := createUser(t, s, "user "+start)
			var first *restauth.TOTPDevice
			if start == "a pending device" {
				first = createDevice(t, s, u.ID, "first")
				require.True(t, useStep(t, s, first, 5000, false))
			}
			const n = 20
			ctx := t.Context()
			devices := racingDevices(u.ID, n)
			errs := make([]error, n)
			startTogether(n, func(i int) {
				errs[i] = s.CreateTOTPDevice(ctx, devices[i])
			})
			for i, err := range errs {
				require.NoError(t, err, "%s: creation %d", start, i)
			}
			winner := requireOneOfDevices(t, s, u.ID, devices)

			// Only the stored device's secret works; its LastStep is its own.
			if first != nil {
				assert.False(t, useStep(t, s, first, 5001, true), "%s: the first device's secret", start)
			}
			for i, d := range devices {
				if i != winner {
					assert.False(t, useStep(t, s, d, 5001, true), "%s: creation %d's secret", start, i)
				}
			}
			requireDevice(t, s, devices[winner])
			assert.True(t, useStep(t, s, devices[winner], devices[winner].LastStep+1, true), start)
		}
	}},
	{"concurrent TOTP device creations over a confirmed device all conflict", func(t *testing.T, s restauth.Store) {
		u := createUser(t, s, "a")
		first := createDevice(t, s, u.ID, "first")
		confirmDevice(t, s, first, 100)
		const n = 20
		ctx := t.Context()
		devices := racingDevices(u.ID, n)
		devices[n-1].Confirmed = true // created confirmed, it conflicts too
		errs := make([]error, n)
		startTogether(n, func(i int) {
			errs[i] = s.CreateTOTPDevice(ctx, devices[i])
		})
		for _, err := range errs {
			requireConflict(t, err, "totp")
		}
		requireDevice(t, s, first)
	}},
	{"concurrent re-enrolments and confirmations of a pending device: one kind wins whole", func(t *testing.T, s restauth.Store) {
		raceEnrolAndConfirm(t, [2]restauth.Store{s, s})
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
}

// raceEnrolAndConfirm races, in rounds (the window a non-atomic store leaves is narrow),
// re-enrolments — CreateTOTPDevice of new pending devices — against confirmations of the
// user's pending device with its secret, each kind on both stores, and checks that one kind
// wins whole. A creation before the first confirmation replaces the secret the
// confirmations check, so none succeeds and every creation does; a confirmation before
// every creation makes them all conflict, and the confirmed device stays.
func raceEnrolAndConfirm(t *testing.T, stores [2]restauth.Store) {
	const (
		rounds = 5
		n      = 20 // racer i uses stores[i%2]
	)
	ctx := t.Context()
	for round := range rounds {
		u := createUser(t, stores[0], fmt.Sprint("racer-", round))
		first := createDevice(t, stores[0], u.ID, "first")
		devices := racingDevices(u.ID, n)
		// Half the racers create a device, on both stores, and which ones shifts by round,
		// since goroutines released together do not start in a random order.
		creates := func(i int) bool { return (i+round)%4 < 2 }
		errs := make([]error, n)
		oks := make([]bool, n)
		startTogether(n, func(i int) {
			if creates(i) {
				errs[i] = stores[i%2].CreateTOTPDevice(ctx, devices[i])
			} else {
				oks[i], errs[i] = stores[i%2].UseTOTPStep(ctx, u.ID, first.SealedSecret, 7, true)
			}
		})
		var created []*restauth.TOTPDevice
		creations, confirmed := 0, 0
		for i, err := range errs {
			if !creates(i) {
				require.NoError(t, err, "round %d: confirmation %d", round, i)
				if oks[i] {
					confirmed++
				}
				continue
			}
			creations++
			if err == nil {
				created = append(created, devices[i])
				continue
			}
			requireConflict(t, err, "totp")
		}
		if confirmed > 0 {
			require.Equal(t, 1, confirmed, "round %d: a device is confirmed once", round)
			require.Empty(t, created, "round %d: creations succeeded over the confirmed device", round)
			first.Confirmed, first.LastStep = true, 7
			requireDevice(t, stores[1], first)
		} else {
			require.Len(t, created, creations, "round %d: no confirmation succeeded, yet creations conflicted", round)
			requireOneOfDevices(t, stores[1], u.ID, created)
		}
	}
}
