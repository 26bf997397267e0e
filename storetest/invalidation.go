package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// invalidationTests pin down the optional restauth.InvalidationNotifier capability: once
// WatchInvalidations returned, each write that changes what a user's tokens authenticate
// as is reported with the user's id. A store without it skips them.
var invalidationTests = []test{
	{"every credential write is reported with its user", func(t *testing.T, s restauth.Store) {
		n, ok := s.(restauth.InvalidationNotifier)
		if !ok {
			t.Skip("the store does not implement restauth.InvalidationNotifier")
		}
		ctx := t.Context()
		u := createUser(t, s, "watched")
		tk := createToken(t, s, u.ID, "inv-watched-key")

		events := make(chan int64, 1024)
		require.NoError(t, n.WatchInvalidations(ctx, func(id int64) { events <- id }))

		writes := []struct {
			name  string
			write func() error
		}{
			{"RevokeToken", func() error { return s.RevokeToken(ctx, tk.ID) }},
			{"UpdateUser", func() error {
				inactive := false
				_, err := s.UpdateUser(ctx, u.ID, restauth.UserUpdate{IsActive: &inactive})
				return err
			}},
			{"AddEmailAddress", func() error {
				return s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: u.ID, Email: "w@example.com", Primary: true})
			}},
			{"DeleteTOTPDevice after CreateTOTPDevice", func() error {
				if err := s.CreateTOTPDevice(ctx, sampleDevice(u.ID, "watched")); err != nil {
					return err
				}
				return s.DeleteTOTPDevice(ctx, u.ID)
			}},
			{"DeleteUser", func() error { return s.DeleteUser(ctx, u.ID) }},
		}
		for _, w := range writes {
			require.NoError(t, w.write(), w.name)
			t.Log(w.name)
			AwaitInvalidation(t, events, u.ID)
		}
	}},
}

// AwaitInvalidation waits until events, fed by an InvalidationNotifier's callback (for
// instance through restauth.TokenCacheConfig.OnInvalidate), reports user id or
// everything (0), skipping the other users' events. It waits on the event, not on a
// clock: its minute's deadline only keeps a broken notifier from hanging the test.
func AwaitInvalidation(t testing.TB, events <-chan int64, id int64) {
	t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		select {
		case got := <-events:
			if got == id || got == 0 {
				return
			}
		case <-deadline.C:
			t.Fatalf("no invalidation of user %d reported", id)
		}
	}
}
