package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// RunShared checks the rules that must hold across instances: newPair returns two stores
// (two processes' worth of connections, pools and caches) over one fresh, empty database,
// and every single-use or uniqueness rule is raced from both. A store whose instances
// cannot share data has nothing to prove here.
func RunShared(t *testing.T, newPair func(t *testing.T) (a, b restauth.Store)) {
	for _, tc := range sharedTests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b := newPair(t)
			require.NotNil(t, a, "newPair returned nil")
			require.NotNil(t, b, "newPair returned nil")
			tc.fn(t, [2]restauth.Store{a, b})
		})
	}
}

type sharedTest struct {
	name string
	fn   func(t *testing.T, stores [2]restauth.Store)
}

// racers is how many goroutines race, alternating between the two stores.
const racers = 20

// enrolledUser creates a user with a pending TOTP device and one recovery code through
// stores[0].
func enrolledUser(t *testing.T, stores [2]restauth.Store) (*restauth.User, *restauth.TOTPDevice, [32]byte) {
	t.Helper()
	ctx := t.Context()
	u := sampleUser("sharedmfa")
	require.NoError(t, stores[0].CreateUser(ctx, u, nil))
	d := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: sealedSecret("shared"), Created: base}
	require.NoError(t, stores[0].CreateTOTPDevice(ctx, d))
	code := hashOf("shared code")
	require.NoError(t, stores[0].ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{code}))
	return u, d, code
}

// raceEnrolments races CreateTOTPDevice of the devices, alternating between the stores, and
// returns their errors.
func raceEnrolments(t *testing.T, stores [2]restauth.Store, devices []*restauth.TOTPDevice) []error {
	errs := make([]error, len(devices))
	startTogether(len(devices), func(i int) {
		errs[i] = stores[i%2].CreateTOTPDevice(t.Context(), devices[i])
	})
	return errs
}

var sharedTests = []sharedTest{
	{"one of the racing uses of a TOTP step succeeds", func(t *testing.T, stores [2]restauth.Store) {
		u, d, _ := enrolledUser(t, stores)
		var won atomic.Int32
		startTogether(racers, func(i int) {
			ok, err := stores[i%2].UseTOTPStep(t.Context(), u.ID, d.SealedSecret, 7, true)
			assert.NoError(t, err)
			if ok {
				won.Add(1)
			}
		})
		assert.Equal(t, int32(1), won.Load())
		d, err := stores[1].TOTPDevice(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(7), d.LastStep)
		assert.True(t, d.Confirmed)
	}},
	{"one of the racing confirmations with different steps succeeds", func(t *testing.T, stores [2]restauth.Store) {
		u, d, _ := enrolledUser(t, stores)
		oks := make([]bool, racers)
		errs := make([]error, racers)
		startTogether(racers, func(i int) {
			oks[i], errs[i] = stores[i%2].UseTOTPStep(t.Context(), u.ID, d.SealedSecret, int64(100+i), true)
		})
		require.NoError(t, errors.Join(errs...))
		winner := -1
		for i, ok := range oks {
			if ok {
				require.Equal(t, -1, winner, "a device is confirmed once, yet steps %d and %d confirmed it", 100+winner, 100+i)
				winner = i
			}
		}
		require.NotEqual(t, -1, winner, "no confirmation succeeded")
		for _, s := range stores {
			got, err := s.TOTPDevice(t.Context(), u.ID)
			require.NoError(t, err)
			assert.True(t, got.Confirmed)
			assert.Equal(t, int64(100+winner), got.LastStep, "LastStep is the winner's step")
			assert.Equal(t, d.SealedSecret, got.SealedSecret)
		}
	}},
	{"one of the racing uses of a recovery code succeeds", func(t *testing.T, stores [2]restauth.Store) {
		u, _, code := enrolledUser(t, stores)
		var won atomic.Int32
		startTogether(racers, func(i int) {
			err := stores[i%2].UseRecoveryCode(t.Context(), u.ID, code, base.Add(time.Duration(i)*time.Second))
			if err == nil {
				won.Add(1)
				return
			}
			assert.ErrorIs(t, err, restauth.ErrNotFound)
		})
		assert.Equal(t, int32(1), won.Load())
	}},
	{"racing replacements of recovery codes leave one set", func(t *testing.T, stores [2]restauth.Store) {
		u, _, _ := enrolledUser(t, stores)
		const perSet = 5
		startTogether(racers/2, func(i int) {
			set := make([][32]byte, perSet)
			for j := range set {
				set[j] = hashOf(fmt.Sprintf("set %d code %d", i, j))
			}
			assert.NoError(t, stores[i%2].ReplaceRecoveryCodes(t.Context(), u.ID, set))
		})
		codes, err := stores[1].RecoveryCodes(t.Context(), u.ID)
		require.NoError(t, err)
		require.Len(t, codes, perSet, "one replacement's codes, not a mix")
		winner := -1
		for i := range racers / 2 {
			if codes[0].Hash == hashOf(fmt.Sprintf("set %d code 0", i)) {
				winner = i
			}
		}
		require.GreaterOrEqual(t, winner, 0, "the first code is from none of the sets")
		for j, c := range codes {
			assert.Equal(t, hashOf(fmt.Sprintf("set %d code %d", winner, j)), c.Hash, "code %d is from the same set as the first", j)
		}
	}},
	{"racing TOTP enrolments over a pending device all succeed and leave one whole", func(t *testing.T, stores [2]restauth.Store) {
		u, first, _ := enrolledUser(t, stores)
		devices := racingDevices(u.ID, racers)
		for i, err := range raceEnrolments(t, stores, devices) {
			require.NoError(t, err, "enrolment %d", i)
		}
		winner := requireOneOfDevices(t, stores[0], u.ID, devices)
		requireDevice(t, stores[1], devices[winner])
		ok, err := stores[1].UseTOTPStep(t.Context(), u.ID, first.SealedSecret, 5000, true)
		require.NoError(t, err)
		assert.False(t, ok, "the replaced device's secret")
	}},
	{"racing TOTP enrolments of a new user all succeed and leave one whole", func(t *testing.T, stores [2]restauth.Store) {
		u := sampleUser("sharedenrol")
		require.NoError(t, stores[0].CreateUser(t.Context(), u, nil))
		devices := racingDevices(u.ID, racers)
		for i, err := range raceEnrolments(t, stores, devices) {
			require.NoError(t, err, "enrolment %d", i)
		}
		winner := requireOneOfDevices(t, stores[1], u.ID, devices)
		requireDevice(t, stores[0], devices[winner])
	}},
	{"racing TOTP enrolments over a confirmed device all conflict", func(t *testing.T, stores [2]restauth.Store) {
		u, first, _ := enrolledUser(t, stores)
		confirmDevice(t, stores[1], first, 7)
		for _, err := range raceEnrolments(t, stores, racingDevices(u.ID, racers)) {
			requireConflict(t, err, "totp")
		}
		requireDevice(t, stores[0], first)
		requireDevice(t, stores[1], first)
	}},
	{"racing re-enrolments and confirmations: one kind wins whole", func(t *testing.T, stores [2]restauth.Store) {
		raceEnrolAndConfirm(t, stores)
	}},
	{"racing verifications with makePrimaryIfNone leave exactly one primary", func(t *testing.T, stores [2]restauth.Store) {
		raceVerifications(t, stores)
	}},
	{"one of the racing creations of a username succeeds", func(t *testing.T, stores [2]restauth.Store) {
		var won atomic.Int32
		startTogether(racers, func(i int) {
			err := stores[i%2].CreateUser(t.Context(), sampleUser(caseVariant("sharedname", i)), nil)
			if err == nil {
				won.Add(1)
				return
			}
			assertConflict(t, err, "username")
		})
		require.Equal(t, int32(1), won.Load())
		a, err := stores[0].UserByUsername(t.Context(), "SHAREDNAME")
		require.NoError(t, err)
		b, err := stores[1].UserByUsername(t.Context(), "SharedName")
		require.NoError(t, err, "each store sees the user, whichever created it")
		assert.Equal(t, a.ID, b.ID)
	}},
}

// assertConflict is requireConflict for goroutines, which must not stop the test.
func assertConflict(t *testing.T, err error, field string) {
	t.Helper()
	var ce *restauth.ConflictError
	if assert.ErrorAs(t, err, &ce) {
		assert.Equal(t, field, ce.Field)
	}
}
