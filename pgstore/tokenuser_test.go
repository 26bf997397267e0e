package pgstore_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
)

// The joined lookup's prepared fast path and pgx's generic path (a pool that never
// prepares) return the same token and user, and the fast path prepares its statement
// again when it goes stale.
func TestTokenAndUserByHashPaths(t *testing.T) {
	t.Parallel()
	fast := newPool(t, func(cfg *pgxpool.Config) { cfg.MaxConns = 1 }) // every call on the same connection
	simple := newPool(t, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 1
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	})
	s := newStoreOn(t, fast)
	other, err := pgstore.New(t.Context(), simple, pgstore.WithSchema(s.Schema()))
	require.NoError(t, err)
	ctx := t.Context()

	u := &restauth.User{Username: "joined", Email: "j@example.com", FirstName: "Jo", LastName: "Ined",
		PasswordHash: "pbkdf2_sha256$1$x$y", IsActive: true, IsStaff: true, DateJoined: time.Now(), LastLogin: time.Now()}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("joined")), KeyPrefix: "inv-abcd",
		KeySuffix: "wxyz-20250101", Name: "joined", Created: time.Now(), Expiry: time.Now().AddDate(0, 0, 30)}
	require.NoError(t, s.CreateToken(ctx, tk))
	wantUser, err := s.UserByID(ctx, u.ID)
	require.NoError(t, err)
	wantToken, err := s.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err)

	check := func(name string, st *pgstore.Store) {
		t.Helper()
		gotToken, gotUser, err := st.TokenAndUserByHash(ctx, tk.KeyHash)
		require.NoError(t, err, name)
		assert.Equal(t, wantToken, gotToken, name)
		assert.Equal(t, wantUser, gotUser, name)
	}
	check("fast path", s)
	check("generic path", other)

	_, err = fast.Exec(ctx, "ALTER TABLE "+pgx.Identifier{s.Schema(), "users"}.Sanitize()+" ALTER COLUMN first_name TYPE varchar(200)")
	require.NoError(t, err)
	check("after the result type changed", s)
	_, err = fast.Exec(ctx, "DEALLOCATE ALL")
	require.NoError(t, err)
	check("after the statement was deallocated", s)

	for name, st := range map[string]*pgstore.Store{"fast path": s, "generic path": other} {
		_, _, err = st.TokenAndUserByHash(ctx, sha256.Sum256([]byte("missing")))
		assert.ErrorIs(t, err, restauth.ErrNotFound, name)
	}
}

// A client that hangs up while its token lookup runs does not cost the pool its
// connection: the lookup finishes on the same server backend, which keeps serving.
func TestTokenLookupOutlivesTheClientsCancellation(t *testing.T) {
	t.Parallel()
	pool := newPool(t, func(cfg *pgxpool.Config) { cfg.MaxConns = 1 })
	s := newStoreOn(t, pool)
	ctx := t.Context()
	u := &restauth.User{Username: "hangup", IsActive: true}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("hangup")), Created: time.Now()}
	require.NoError(t, s.CreateToken(ctx, tk))

	var pid int32
	require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))

	// Another connection holds a lock that makes the lookup wait.
	locker := sharedPool(t)
	lockTx, err := locker.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = lockTx.Rollback(context.Background()) }()
	_, err = lockTx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{s.Schema(), "api_tokens"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	clientCtx, hangUp := context.WithCancel(ctx)
	type result struct {
		u   *restauth.User
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, got, err := s.TokenAndUserByHash(clientCtx, tk.KeyHash)
		done <- result{got, err}
	}()
	// Wait until the lookup is blocked on the lock (observed, not timed), then hang up.
	require.Eventually(t, func() bool {
		var waiting bool
		err := locker.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock')", pid).Scan(&waiting)
		return err == nil && waiting
	}, time.Minute, 5*time.Millisecond)
	hangUp()
	require.NoError(t, lockTx.Rollback(ctx))

	r := <-done
	require.NoError(t, r.err, "the lookup finished despite the hang-up")
	assert.Equal(t, u.ID, r.u.ID)
	var after int32
	require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&after))
	assert.Equal(t, pid, after, "the pool kept its connection")
}

// BenchmarkTokenAuthLookup compares what token authentication costs the store: the two
// round trips of TokenByHash and UserByID against the one of TokenAndUserByHash.
func BenchmarkTokenAuthLookup(b *testing.B) {
	s, hashes := newTokenStore(b, 10_000)
	// As a request's: restauth bounds each request's store work by Config.StoreTimeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.Run("two-queries", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			t, err := s.TokenByHash(ctx, hashes[i%len(hashes)])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.UserByID(ctx, t.UserID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("joined", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, _, err := s.TokenAndUserByHash(ctx, hashes[i%len(hashes)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("joined-miss", func(b *testing.B) {
		b.ReportAllocs()
		miss := sha256.Sum256([]byte("unknown"))
		for b.Loop() {
			if _, _, err := s.TokenAndUserByHash(ctx, miss); !errors.Is(err, restauth.ErrNotFound) {
				b.Fatal(err)
			}
		}
	})
}

// TestTokenLookupPastItsDeadlineIsAStoreTimeout: a lookup that runs out of time while the
// database does not answer (here: a lock it waits on) fails with restauth.ErrStoreTimeout,
// the dialects' 503, also when its own bound (the request's deadline or
// DefaultLookupTimeout) ends before the caller's context does; a bare deadline error was
// answered 500 (seen in the fault suite with PostgreSQL frozen).
func TestTokenLookupPastItsDeadlineIsAStoreTimeout(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	u := &restauth.User{Username: "frozen", IsActive: true}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("frozen")), Created: time.Now()}
	require.NoError(t, s.CreateToken(ctx, tk))

	lockTx, err := sharedPool(t).Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = lockTx.Rollback(context.Background()) }()
	_, err = lockTx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{s.Schema(), "api_tokens"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	// A deadline of the caller's own, without restauth's cause: the lookup's bound.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, _, err = s.TokenAndUserByHash(short, tk.KeyHash)
	require.ErrorIs(t, err, restauth.ErrStoreTimeout, "joined lookup")
	short2, cancel2 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel2()
	_, err = s.TokenByHash(short2, tk.KeyHash)
	require.ErrorIs(t, err, restauth.ErrStoreTimeout, "token lookup")
}
