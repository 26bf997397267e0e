package sqlitestore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
	"github.com/restauth/restauth/storetest"
)

// Two processes' worth of Store and Service over one file, each with the token cache on
// (an hour's TTL, so only the change log can make it forget in time): a token revoked on
// one is refused on the other as soon as the other's watch read the change — the test
// waits on that event, not on a clock.
func TestTokenCacheTwoInstancesOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	open := func() (*restauth.Service, chan int64) {
		s, err := sqlitestore.Open(t.Context(), path, sqlitestore.WithInvalidationPoll(5*time.Millisecond))
		require.NoError(t, err)
		events := make(chan int64, 1024)
		svc, err := restauth.New(restauth.Config{
			Store:     s,
			Secret:    bytes.Repeat([]byte("k"), 32),
			SiteURL:   "http://testserver",
			Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
			Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
			Tokens: restauth.TokenConfig{Cache: restauth.TokenCacheConfig{Size: 100, TTL: time.Hour,
				OnInvalidate: func(id int64) { events <- id }}},
		})
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = svc.Close(context.Background())
			_ = s.Close()
		})
		return svc, events
	}
	a, _ := open()
	b, eventsB := open()
	ctx := t.Context()

	res, err := a.Register(ctx, restauth.RegisterRequest{Username: "twice", Password1: "Vq7#mLp2!xRt", Password2: "Vq7#mLp2!xRt"})
	require.NoError(t, err)
	_, _, err = b.AuthenticateToken(ctx, res.Token.Key) // now cached on b
	require.NoError(t, err)
	for drained := false; !drained; { // events of the registration
		select {
		case <-eventsB:
		default:
			drained = true
		}
	}

	require.NoError(t, a.RevokeToken(ctx, res.User, res.Token.Token.ID))
	storetest.AwaitInvalidation(t, eventsB, res.User.ID)
	_, _, err = b.AuthenticateToken(ctx, res.Token.Key)
	var ae *restauth.AuthError
	require.True(t, errors.As(err, &ae), "refused: %v", err)
	require.Equal(t, "Token has been revoked", ae.Detail)
}
