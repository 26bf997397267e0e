package storetest

import (
	"context"
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
			awaitInvalidation(t, ctx, events, u.ID, w.name)
		}
	}},
}

// awaitInvalidation waits for the event of user id (or of everything, 0), skipping
// others; the deadline only keeps a broken store from hanging the suite.
func awaitInvalidation(t *testing.T, ctx context.Context, events <-chan int64, id int64, what string) {
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
			t.Fatalf("%s: no invalidation of user %d reported", what, id)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
}
