package restauth_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// lookupCountingStore counts the token lookups that reach the store.
type lookupCountingStore struct {
	restauth.Store
	lookups atomic.Int64
}

func (s *lookupCountingStore) TokenByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	s.lookups.Add(1)
	return s.Store.TokenByHash(ctx, hash)
}

// cachedService is a Service with the token cache on over store, on clock.
func cachedService(t *testing.T, store restauth.Store, clock *fakeClock) *restauth.Service {
	t.Helper()
	svc, err := restauth.New(restauth.Config{Store: store, Secret: testSecret, SiteURL: "http://cache", Passwords: cheapPasswords,
		Now: clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tokens: restauth.TokenConfig{Cache: restauth.TokenCacheConfig{Size: 100, TTL: time.Minute}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	return svc
}

// A token authenticated once comes from the cache until its TTL has passed.
func TestTokenCacheServesRepeatedLookups(t *testing.T) {
	t.Parallel()
	store := &lookupCountingStore{Store: memstore.New()}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc := cachedService(t, store, clock)
	res, err := svc.Register(t.Context(), restauth.RegisterRequest{Username: "cached", Password1: goodPassword, Password2: goodPassword})
	require.NoError(t, err)

	for range 5 {
		u, tk, err := svc.AuthenticateToken(t.Context(), res.Token.Key)
		require.NoError(t, err)
		assert.Equal(t, res.User.ID, u.ID)
		assert.Equal(t, res.Token.Token.ID, tk.ID)
		u.Username = "changed by the caller" // callers get copies
	}
	assert.Equal(t, int64(1), store.lookups.Load(), "one store lookup for five authentications")
	u, _, err := svc.AuthenticateToken(t.Context(), res.Token.Key)
	require.NoError(t, err)
	assert.Equal(t, "cached", u.Username)

	clock.Advance(time.Minute)
	_, _, err = svc.AuthenticateToken(t.Context(), res.Token.Key)
	require.NoError(t, err)
	assert.Equal(t, int64(2), store.lookups.Load(), "after the TTL the store is asked again")
}

// Every operation that changes what a token authenticates as takes effect on this
// instance at once, though the cache holds the token: the decorator under the Store
// forgets what each write changed.
func TestTokenCacheForgetsOnLocalWrites(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		op   func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error
		// check is what authenticating the token must give afterwards.
		check func(t *testing.T, res *restauth.RegisterResult, u *restauth.User, err error)
	}{
		{"revoke", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			return svc.RevokeToken(ctx, res.User, res.Token.Token.ID)
		}, refusedWith("Token has been revoked")},
		{"logout", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			return svc.Logout(ctx, restauth.LogoutRequest{User: res.User, Token: &res.Token.Token})
		}, refusedWith("Token has been revoked")},
		{"deactivate", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			_, err := svc.DeactivateUser(ctx, res.User.ID)
			return err
		}, refusedWith("User inactive or deleted.")},
		{"delete", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			return svc.DeleteUser(ctx, res.User.ID)
		}, refusedWith("Invalid token.")},
		{"revoke all credentials", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			return svc.RevokeAllCredentials(ctx, res.User.ID)
		}, refusedWith("Token has been revoked")},
		{"profile update", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			name := "Renamed"
			_, err := svc.UpdateProfile(ctx, res.User.ID, restauth.ProfileUpdate{FirstName: &name})
			return err
		}, func(t *testing.T, res *restauth.RegisterResult, u *restauth.User, err error) {
			require.NoError(t, err)
			assert.Equal(t, "Renamed", u.FirstName)
		}},
		{"password change", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			_, err := svc.ChangePassword(ctx, res.User, restauth.PasswordChange{Old: goodPassword, New1: "another-good-passphrase", New2: "another-good-passphrase"})
			return err
		}, func(t *testing.T, res *restauth.RegisterResult, u *restauth.User, err error) {
			if err == nil { // the token may stay valid; its user must be the changed one
				assert.NotEqual(t, res.User.PasswordHash, u.PasswordHash, "the user authenticated has the new password hash")
			}
		}},
		{"primary address removed", func(ctx context.Context, svc *restauth.Service, res *restauth.RegisterResult) error {
			addrs, err := svc.EmailAddresses(ctx, res.User.ID)
			if err != nil || len(addrs) != 1 {
				return fmt.Errorf("addresses %v: %w", addrs, err)
			}
			_, err = svc.RemoveEmailAddress(ctx, res.User.ID, addrs[0].ID)
			return err
		}, func(t *testing.T, res *restauth.RegisterResult, u *restauth.User, err error) {
			require.NoError(t, err)
			assert.Equal(t, "forget@example.com", res.User.Email, "registered with the address")
			assert.Equal(t, "", u.Email, "the user authenticated has lost it")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			store := &lookupCountingStore{Store: memstore.New()}
			svc := cachedService(t, store, clock)
			ctx := t.Context()
			res, err := svc.Register(ctx, restauth.RegisterRequest{Username: "forget", Email: "forget@example.com", Password1: goodPassword, Password2: goodPassword})
			require.NoError(t, err)
			_, _, err = svc.AuthenticateToken(ctx, res.Token.Key)
			require.NoError(t, err)
			_, _, err = svc.AuthenticateToken(ctx, res.Token.Key)
			require.NoError(t, err)
			require.Equal(t, int64(1), store.lookups.Load(), "the token is cached")

			require.NoError(t, tc.op(ctx, svc, res))
			u, _, err := svc.AuthenticateToken(ctx, res.Token.Key) // the clock has not moved
			tc.check(t, res, u, err)
		})
	}
}

// refusedWith checks that authentication was refused with that detail.
func refusedWith(detail string) func(t *testing.T, res *restauth.RegisterResult, u *restauth.User, err error) {
	return func(t *testing.T, res *restauth.RegisterResult, u *restauth.User, err error) {
		t.Helper()
		var ae *restauth.AuthError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, detail, ae.Detail)
		assert.Nil(t, u)
	}
}

// Two instances over one store that cannot report changes (memstore stands in for one):
// a token revoked on one is refused on the other once the TTL has passed, on the fake
// clock, never on wall time.
func TestTokenCacheTwoInstancesTTL(t *testing.T) {
	t.Parallel()
	shared := memstore.New()
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, b := cachedService(t, shared, clock), cachedService(t, shared, clock)
	ctx := t.Context()
	res, err := a.Register(ctx, restauth.RegisterRequest{Username: "twice", Password1: goodPassword, Password2: goodPassword})
	require.NoError(t, err)
	_, _, err = b.AuthenticateToken(ctx, res.Token.Key)
	require.NoError(t, err)

	require.NoError(t, a.RevokeToken(ctx, res.User, res.Token.Token.ID))
	_, _, err = a.AuthenticateToken(ctx, res.Token.Key)
	refusedWith("Token has been revoked")(t, res, nil, err)
	_, _, err = b.AuthenticateToken(ctx, res.Token.Key)
	require.NoError(t, err, "within the TTL the other instance still has the token cached (the documented bound)")

	clock.Advance(time.Minute)
	_, _, err = b.AuthenticateToken(ctx, res.Token.Key)
	refusedWith("Token has been revoked")(t, res, nil, err)
}

// BenchmarkAuthenticateTokenCached is BenchmarkAuthenticateToken with the token cache on:
// what a hit costs (on memstore, whose lookup is a map read, it saves little; on the SQL
// stores it saves the query).
func BenchmarkAuthenticateTokenCached(b *testing.B) {
	svc, err := restauth.New(restauth.Config{Store: memstore.New(), Secret: testSecret, SiteURL: "http://bench", Passwords: cheapPasswords,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tokens: restauth.TokenConfig{Cache: restauth.TokenCacheConfig{Size: 100}}})
	require.NoError(b, err)
	res, err := svc.Register(context.Background(), restauth.RegisterRequest{Username: "bench", Password1: goodPassword, Password2: goodPassword})
	require.NoError(b, err)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := svc.AuthenticateToken(ctx, res.Token.Key); err != nil {
			b.Fatal(err)
		}
	}
}
