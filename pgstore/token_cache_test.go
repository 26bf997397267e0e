package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
	"github.com/restauth/restauth/storetest"
)

// cachingService is a Service with the token cache on (an hour's TTL, so that only the
// store's notification can make it forget in time) over store; events receives what
// the store reported.
func cachingService(t *testing.T, store restauth.Store, events chan<- int64) *restauth.Service {
	t.Helper()
	svc, err := restauth.New(restauth.Config{
		Store:     store,
		Secret:    bytes.Repeat([]byte("k"), 32),
		SiteURL:   "http://testserver",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
		Mail:      restauth.MailConfig{Mailer: restauth.MailerFunc(func(context.Context, *restauth.Message) error { return nil })},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tokens: restauth.TokenConfig{Cache: restauth.TokenCacheConfig{Size: 100, TTL: time.Hour,
			OnInvalidate: func(id int64) { events <- id }}},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc
}

// Two instances (two Services, each with its own Store and cache, over one schema): a
// token revoked, or a user deactivated, on one is refused on the other as soon as the
// other's store reported the change — the test waits on that event, not on a clock.
func TestTokenCacheTwoInstancesNotified(t *testing.T) {
	t.Parallel()
	storeA := newStore(t)
	storeB, err := pgstore.New(t.Context(), sharedPool(t), pgstore.WithSchema(storeA.Schema()))
	require.NoError(t, err)
	eventsA, eventsB := make(chan int64, 1024), make(chan int64, 1024)
	a, b := cachingService(t, storeA, eventsA), cachingService(t, storeB, eventsB)
	ctx := t.Context()

	res, err := a.Register(ctx, restauth.RegisterRequest{Username: "twice", Password1: "Vq7#mLp2!xRt", Password2: "Vq7#mLp2!xRt"})
	require.NoError(t, err)
	second, err := a.IssueToken(ctx, res.User, "second")
	require.NoError(t, err)
	for _, key := range []string{res.Token.Key, second.Key} {
		_, _, err = b.AuthenticateToken(ctx, key) // now cached on b
		require.NoError(t, err)
	}

	drain(eventsB)
	require.NoError(t, a.RevokeToken(ctx, res.User, res.Token.Token.ID))
	storetest.AwaitInvalidation(t, eventsB, res.User.ID)
	requireRefused(t, b, res.Token.Key, "Token has been revoked")
	_, _, err = b.AuthenticateToken(ctx, second.Key)
	require.NoError(t, err, "the user's other token still works")

	drain(eventsB)
	_, err = a.DeactivateUser(ctx, res.User.ID)
	require.NoError(t, err)
	storetest.AwaitInvalidation(t, eventsB, res.User.ID)
	requireRefused(t, b, second.Key, "User inactive or deleted.")
}

// drain empties ch of events from earlier steps.
func drain(ch <-chan int64) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// requireRefused checks that svc refuses key with that detail.
func requireRefused(t *testing.T, svc *restauth.Service, key, detail string) {
	t.Helper()
	_, _, err := svc.AuthenticateToken(t.Context(), key)
	var ae *restauth.AuthError
	require.True(t, errors.As(err, &ae), "refused: %v", err)
	require.Equal(t, detail, ae.Detail)
}

// When the listening connection breaks, the watch connects again and reports 0 (forget
// everything: changes may have been missed), then reports changes as before.
func TestWatchInvalidationsSurvivesABrokenConnection(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	pool := sharedPool(t)
	listeners := func() map[int32]bool {
		rows, err := pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = 'restauth invalidations'")
		require.NoError(t, err)
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		require.NoError(t, err)
		set := map[int32]bool{}
		for _, p := range pids {
			set[p] = true
		}
		return set
	}
	before := listeners()
	events := make(chan int64, 1024)
	require.NoError(t, s.WatchInvalidations(ctx, func(id int64) { events <- id }))
	var ours []int32
	for p := range listeners() {
		if !before[p] { // a concurrent test's listener may be among them: it reconnects too
			ours = append(ours, p)
		}
	}
	require.NotEmpty(t, ours, "the watch listens on a connection of its own")
	for _, p := range ours {
		_, err := pool.Exec(ctx, "SELECT pg_terminate_backend($1)", p)
		require.NoError(t, err)
	}
	storetest.AwaitInvalidation(t, events, 0) // only 0 (or another user's id) can come now

	u := &restauth.User{Username: "relisten", IsActive: true}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	inactive := false
	_, err := s.UpdateUser(ctx, u.ID, restauth.UserUpdate{IsActive: &inactive})
	require.NoError(t, err)
	for {
		select {
		case got := <-events:
			if got == u.ID {
				return
			}
		case <-time.After(time.Minute):
			t.Fatal("no invalidation after reconnecting")
		}
	}
}
