package pgstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/migrations"
	"github.com/restauth/restauth/pgstore"
	"github.com/restauth/restauth/storetest"
)

// dsnEnv names the environment variable with the test database's DSN.
const dsnEnv = "RESTAUTH_TEST_POSTGRES_DSN"

// testDSN returns the test database's DSN or skips the test.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skipf("pgstore: %s is not set, skipping the PostgreSQL tests (set it to e.g. "+
			"postgres://root@127.0.0.1:5432/test?sslmode=disable to run them)", dsnEnv)
	}
	return dsn
}

var (
	sharedOnce sync.Once
	shared     *pgxpool.Pool
	sharedErr  error
)

// sharedPool returns one pool for the whole test binary, so that the many parallel
// conformance subtests do not each open connections of their own.
func sharedPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	dsn := testDSN(tb)
	sharedOnce.Do(func() {
		cfg, err := pgstore.PoolConfig(dsn) // the suite runs with Open's timeouts
		if err != nil {
			sharedErr = err
			return
		}
		cfg.MaxConns = 16
		shared, sharedErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	require.NoError(tb, sharedErr)
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	os.Exit(code)
}

// newSchema returns a schema name no other test (or test run) uses, and drops the schema
// when the test ends.
func newSchema(tb testing.TB) string {
	tb.Helper()
	pool := sharedPool(tb)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "restauth_test_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
		if err != nil {
			tb.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// newStore returns a store on the shared pool in a schema of its own.
func newStore(tb testing.TB, opts ...pgstore.Option) *pgstore.Store {
	tb.Helper()
	return newStoreOn(tb, sharedPool(tb), opts...)
}

// newStoreOn is newStore on a pool of the caller's.
func newStoreOn(tb testing.TB, pool *pgxpool.Pool, opts ...pgstore.Option) *pgstore.Store {
	tb.Helper()
	schema := newSchema(tb)
	s, err := pgstore.New(context.Background(), pool, append([]pgstore.Option{pgstore.WithSchema(schema)}, opts...)...)
	require.NoError(tb, err)
	tb.Cleanup(s.Close)
	return s
}

// newPool returns a pool of the test's own, configured by configure, and closes it when
// the test ends.
func newPool(t *testing.T, configure func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testDSN(t))
	require.NoError(t, err)
	configure(cfg)
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) restauth.Store { return newStore(t) })
}

// The store also works on a pool that never prepares statements (as behind PgBouncer in
// transaction mode), where TokenByHash takes pgx's generic path and pgx interpolates the
// parameters itself.
func TestConformanceSimpleProtocol(t *testing.T) {
	simple := newPool(t, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 8
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	})
	storetest.Run(t, func(t *testing.T) restauth.Store { return newStoreOn(t, simple) })
}

// TokenByHash prepares its statement on each connection; when the statement goes stale
// (the table's columns changed, or the session's statements were deallocated), it
// prepares it again instead of failing.
func TestTokenByHashSurvivesStalePreparedStatements(t *testing.T) {
	t.Parallel()
	pool := newPool(t, func(cfg *pgxpool.Config) { cfg.MaxConns = 1 }) // every call on the same connection
	s := newStoreOn(t, pool)
	ctx := t.Context()

	u := &restauth.User{Username: "stale"}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("stale")), KeyPrefix: "inv-abcd",
		KeySuffix: "wxyz-20250101", Name: "stale", Created: time.Now(), Expiry: time.Now().AddDate(0, 0, 30)}
	require.NoError(t, s.CreateToken(ctx, tk))
	want, err := s.TokenByID(ctx, tk.ID)
	require.NoError(t, err)

	got, err := s.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err)
	assert.Equal(t, want, got, "the prepared path and the generic one agree")

	_, err = pool.Exec(ctx, "ALTER TABLE "+pgx.Identifier{s.Schema(), "api_tokens"}.Sanitize()+" ALTER COLUMN name TYPE varchar(200)")
	require.NoError(t, err)
	got, err = s.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err, "after the result type changed")
	assert.Equal(t, want, got)

	_, err = pool.Exec(ctx, "DEALLOCATE ALL")
	require.NoError(t, err)
	got, err = s.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err, "after the statement was deallocated")
	assert.Equal(t, want, got)

	_, err = s.TokenByHash(ctx, sha256.Sum256([]byte("missing")))
	require.ErrorIs(t, err, restauth.ErrNotFound)
}

// caseVariant spells name with the letters selected by the bits of i in upper case.
func caseVariant(name string, i int) string {
	b := []byte(name)
	for j := range b {
		if i>>j&1 == 1 {
			b[j] = strings.ToUpper(string(b[j]))[0]
		}
	}
	return string(b)
}

// count returns the number of rows of a table of the store's schema.
func count(t *testing.T, s *pgstore.Store, table string) int {
	t.Helper()
	var n int
	err := s.Pool().QueryRow(t.Context(), "SELECT count(*) FROM "+pgx.Identifier{s.Schema(), table}.Sanitize()).Scan(&n)
	require.NoError(t, err)
	return n
}

// The check: 100 registrations of one username (in different cases) at once,
// through enough connections for the transactions to really overlap, give one user and 99
// clean conflicts.
func TestConcurrentRegistrationsOfOneUsername(t *testing.T) {
	t.Parallel()
	pool := newPool(t, func(cfg *pgxpool.Config) { cfg.MaxConns = 40 })
	s := newStoreOn(t, pool)

	const n = 100
	ctx := t.Context()
	// Open the connections before the race, so that it is between transactions.
	var warm sync.WaitGroup
	for range pool.Config().MaxConns {
		warm.Go(func() {
			if c, err := pool.Acquire(ctx); err == nil {
				time.Sleep(50 * time.Millisecond)
				c.Release()
			}
		})
	}
	warm.Wait()

	errs := make([]error, n)
	users := make([]*restauth.User, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		users[i] = &restauth.User{Username: caseVariant("concurrent", i), IsActive: true, DateJoined: time.Now()}
		wg.Go(func() {
			<-start
			errs[i] = s.CreateUser(ctx, users[i], &restauth.EmailAddress{Email: fmt.Sprintf("r%d@example.com", i), Primary: true})
		})
	}
	close(start)
	wg.Wait()

	winners := 0
	for i, err := range errs {
		if err == nil {
			winners++
			continue
		}
		var ce *restauth.ConflictError
		require.ErrorAs(t, err, &ce, "registration %d", i)
		require.Equal(t, "username", ce.Field)
	}
	require.Equal(t, 1, winners)
	assert.Equal(t, 1, count(t, s, "users"))
	assert.Equal(t, 1, count(t, s, "email_addresses"), "refused registrations leave no address")
}

// Two Store values on one schema, each with its own pool, are two instances of the
// application: each sees what the other wrote.
func TestTwoInstancesShareTheSchema(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	schema := newSchema(t)
	ctx := t.Context()
	a, err := pgstore.Open(ctx, dsn, pgstore.WithSchema(schema))
	require.NoError(t, err)
	t.Cleanup(a.Close)
	b, err := pgstore.Open(ctx, dsn, pgstore.WithSchema(schema))
	require.NoError(t, err)
	t.Cleanup(b.Close)

	u := &restauth.User{Username: "alice", DateJoined: time.Now()}
	require.NoError(t, a.CreateUser(ctx, u, &restauth.EmailAddress{Email: "alice@example.com", Verified: true, Primary: true}))
	got, err := b.UserByUsername(ctx, "ALICE")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	assert.Equal(t, "alice@example.com", got.Email)
	require.ErrorIs(t, b.CreateUser(ctx, &restauth.User{Username: "Alice"}, nil), restauth.ErrConflict)

	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("key")), Created: time.Now()}
	require.NoError(t, b.CreateToken(ctx, tk))
	gotTk, err := a.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err)
	assert.False(t, gotTk.Revoked)
	require.NoError(t, a.RevokeToken(ctx, tk.ID))
	gotTk, err = b.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err)
	assert.True(t, gotTk.Revoked, "a token revoked on one instance is revoked on the other")

	ssA, ssB := a.SessionStore(), b.SessionStore()
	require.NoError(t, ssA.Commit("session-token", []byte("data"), time.Now().Add(time.Hour)))
	data, found, err := ssB.Find("session-token")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []byte("data"), data)
	require.NoError(t, ssB.Delete("session-token"))
	_, found, err = ssA.Find("session-token")
	require.NoError(t, err)
	assert.False(t, found)
}

// Stores in different schemas of one database share nothing.
func TestSchemasAreSeparate(t *testing.T) {
	t.Parallel()
	a, b := newStore(t), newStore(t)
	ctx := t.Context()
	ua, ub := &restauth.User{Username: "same"}, &restauth.User{Username: "same"}
	require.NoError(t, a.CreateUser(ctx, ua, nil))
	require.NoError(t, b.CreateUser(ctx, ub, nil), "the username is taken in the other schema only")
	require.NoError(t, a.DeleteUser(ctx, ua.ID))
	got, err := b.UserByUsername(ctx, "same")
	require.NoError(t, err)
	assert.Equal(t, ub.ID, got.ID)
}

func migrationVersions(t *testing.T, pool *pgxpool.Pool, schema string) []int64 {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT version FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" ORDER BY version")
	require.NoError(t, err)
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return vs
}

// shippedVersions are the versions of the migration files this store embeds, in order:
// what a database opened by this build has applied.
func shippedVersions(t *testing.T) []int64 {
	t.Helper()
	ms, err := migrations.Load(os.DirFS("migrations"), "*.sql")
	require.NoError(t, err)
	vs := make([]int64, 0, len(ms))
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	require.Subset(t, vs, []int64{1, 2, 3, 4}, "the migrations of the first release are shipped")
	return vs
}

// Instances starting at once against an empty schema wait for each other's migration
// instead of failing, and each migration is applied once; opening again changes nothing.
func TestMigrationsRaceSafeAndIdempotent(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	schema := newSchema(t)
	ctx := t.Context()

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			s, err := pgstore.Open(ctx, dsn, pgstore.WithSchema(schema))
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	pool := sharedPool(t)
	applied := migrationVersions(t, pool, schema)
	require.Equal(t, shippedVersions(t), applied)

	s, err := pgstore.New(ctx, pool, pgstore.WithSchema(schema))
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, applied, migrationVersions(t, pool, schema))
	u := &restauth.User{Username: "after-migrations"}
	require.NoError(t, s.CreateUser(ctx, u, nil))
}

// A store may use a schema it could not create, as long as it exists.
func TestExistingSchema(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	schema := newSchema(t)
	_, err := pool.Exec(t.Context(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err)
	s, err := pgstore.New(t.Context(), pool, pgstore.WithSchema(schema))
	require.NoError(t, err)
	s.Close()
	assert.Equal(t, shippedVersions(t), migrationVersions(t, pool, schema))
}

// Times come back in UTC at microsecond precision, zero times are NULL, and token dates
// are the UTC day of the time given.
func TestTimesAndNulls(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	east := time.FixedZone("UTC+5", 5*3600)
	joined := time.Date(2024, 3, 1, 2, 30, 0, 123456789, east)
	u := &restauth.User{Username: "times", DateJoined: joined}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	got, err := s.UserByID(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, time.UTC, got.DateJoined.Location())
	assert.Equal(t, joined.UTC().Truncate(time.Microsecond), got.DateJoined)
	assert.True(t, got.LastLogin.IsZero())

	var loginNull bool
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT last_login IS NULL FROM "+pgx.Identifier{s.Schema(), "users"}.Sanitize()+" WHERE id = $1", u.ID).Scan(&loginNull))
	assert.True(t, loginNull, "a zero LastLogin is stored as NULL")

	// 2024-12-31 22:00 at UTC-5 is 2025-01-01 03:00 UTC: the token's day is 2025-01-01.
	west := time.FixedZone("UTC-5", -5*3600)
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("times")), Created: joined,
		Expiry: time.Date(2024, 12, 31, 22, 0, 0, 0, west)}
	require.NoError(t, s.CreateToken(ctx, tk))
	require.NoError(t, s.TouchToken(ctx, tk.ID, time.Date(2024, 6, 1, 23, 59, 0, 0, time.UTC)))
	gotTk, err := s.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), gotTk.Expiry)
	assert.Equal(t, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), gotTk.LastSeen)
	assert.Equal(t, time.UTC, gotTk.Created.Location())
	var expiry string
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT expiry::text FROM "+pgx.Identifier{s.Schema(), "api_tokens"}.Sanitize()+" WHERE id = $1", tk.ID).Scan(&expiry))
	assert.Equal(t, "2025-01-01", expiry)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	_, err := s.UserByID(ctx, 42)
	require.ErrorIs(t, err, restauth.ErrNotFound)
	assert.Contains(t, err.Error(), "42")

	err = s.CreateToken(ctx, &restauth.APIToken{UserID: 42, KeyHash: sha256.Sum256([]byte("x"))})
	require.ErrorIs(t, err, restauth.ErrNotFound, "a foreign-key violation is a missing user")

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.TokenByHash(canceled, sha256.Sum256([]byte("x")))
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, restauth.ErrNotFound)
	assert.ErrorIs(t, s.CreateUser(canceled, &restauth.User{Username: "x"}, nil), context.Canceled)
}

func TestSessionStore(t *testing.T) {
	t.Parallel()
	s := newStore(t, pgstore.WithSessionCleanupInterval(20*time.Millisecond))
	ss := s.SessionStore()
	require.IsType(t, &pgstore.SessionStore{}, ss)
	ctx := t.Context()
	cs := ss.(scs.CtxStore)

	_, found, err := cs.FindCtx(ctx, "missing")
	require.NoError(t, err)
	assert.False(t, found)
	require.NoError(t, cs.DeleteCtx(ctx, "missing"), "deleting an unknown token is no error")

	require.NoError(t, cs.CommitCtx(ctx, "a", []byte("one"), time.Now().Add(time.Hour)))
	require.NoError(t, cs.CommitCtx(ctx, "a", []byte("two"), time.Now().Add(time.Hour)))
	b, found, err := cs.FindCtx(ctx, "a")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []byte("two"), b, "Commit overwrites")

	require.NoError(t, cs.CommitCtx(ctx, "empty", nil, time.Now().Add(time.Hour)))
	b, found, err = cs.FindCtx(ctx, "empty")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Empty(t, b)

	all, err := ss.(scs.IterableCtxStore).AllCtx(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"a": []byte("two"), "empty": {}}, all)

	require.NoError(t, cs.DeleteCtx(ctx, "a"))
	_, found, err = cs.FindCtx(ctx, "a")
	require.NoError(t, err)
	assert.False(t, found)

	// An expired session is not found, and the cleanup goroutine deletes it.
	require.NoError(t, cs.CommitCtx(ctx, "expired", []byte("old"), time.Now().Add(-time.Second)))
	_, found, err = cs.FindCtx(ctx, "expired")
	require.NoError(t, err)
	assert.False(t, found)
	require.Eventually(t, func() bool { return count(t, s, "sessions") == 1 }, 30*time.Second, 20*time.Millisecond,
		"the expired session is cleaned up, the live one kept")

	// Close stops the cleanup (it returns only once the goroutine has ended), and a
	// closed store starts no new one.
	s.Close()
	s.Close()
	s.SessionStore()
	require.NoError(t, cs.CommitCtx(ctx, "expired", []byte("old"), time.Now().Add(-time.Second)))
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, 2, count(t, s, "sessions"), "nothing cleans up after Close")
}

// A store made by New leaves the pool to the caller; one made by Open closes its own.
func TestCloseAndPoolOwnership(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	s.Close()
	require.NoError(t, s.Pool().Ping(t.Context()), "New's pool stays open")

	opened, err := pgstore.Open(t.Context(), testDSN(t), pgstore.WithSchema(s.Schema()))
	require.NoError(t, err)
	opened.SessionStore()
	opened.Close()
	opened.Close()
	require.Error(t, opened.Pool().Ping(t.Context()), "Open's pool is closed")
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	_, err := pgstore.Open(t.Context(), "postgres://%zz")
	require.Error(t, err)
	_, err = pgstore.New(t.Context(), nil)
	require.Error(t, err)
}

// newTokenStore returns a store holding n tokens of one user and their hashes.
func newTokenStore(b *testing.B, n int) (*pgstore.Store, [][32]byte) {
	s := newStore(b)
	ctx := context.Background()
	u := &restauth.User{Username: "bench"}
	require.NoError(b, s.CreateUser(ctx, u, nil))
	hashes := make([][32]byte, n)
	batch := &pgx.Batch{}
	for i := range hashes {
		hashes[i] = sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
		batch.Queue("INSERT INTO "+pgx.Identifier{s.Schema(), "api_tokens"}.Sanitize()+
			" (user_id, key_hash, key_prefix, key_suffix, name, created, expiry) VALUES ($1, $2, 'inv-0123', 'abcd-20251201', 'bench', now(), current_date + 365)",
			u.ID, hashes[i][:])
	}
	require.NoError(b, s.Pool().SendBatch(ctx, batch).Close())
	_, err := s.Pool().Exec(ctx, "ANALYZE "+pgx.Identifier{s.Schema(), "api_tokens"}.Sanitize())
	require.NoError(b, err)
	return s, hashes
}

// BenchmarkTokenByHash measures the lookup on every token-authenticated request, one at
// a time (so mostly the round trip to the server).
func BenchmarkTokenByHash(b *testing.B) {
	s, hashes := newTokenStore(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.TokenByHash(ctx, hashes[i%len(hashes)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkTokenByHashParallel measures lookups from concurrent requests.
func BenchmarkTokenByHashParallel(b *testing.B) {
	s, hashes := newTokenStore(b, 10_000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.TokenByHash(ctx, hashes[i%len(hashes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkTokenByHashMiss measures an unknown key, which anyone can send at will.
func BenchmarkTokenByHashMiss(b *testing.B) {
	s, _ := newTokenStore(b, 10_000)
	ctx := context.Background()
	miss := sha256.Sum256([]byte("unknown"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TokenByHash(ctx, miss); !errors.Is(err, restauth.ErrNotFound) {
			b.Fatal(err)
		}
	}
}

// A storm of address operations on one user from two instances neither deadlocks nor
// fails with anything but the contract's errors, and leaves at most one primary address,
// mirrored by User.Email.
func TestAddressStormKeepsThePrimaryMirrored(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	schema := newSchema(t)
	ctx := t.Context()
	var stores [2]*pgstore.Store
	for i := range stores {
		s, err := pgstore.Open(ctx, dsn, pgstore.WithSchema(schema))
		require.NoError(t, err)
		t.Cleanup(s.Close)
		stores[i] = s
	}
	u := &restauth.User{Username: "storm"}
	require.NoError(t, stores[0].CreateUser(ctx, u, nil))

	var (
		mu  sync.Mutex
		ids []int64
	)
	pick := func(i int) int64 {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) == 0 {
			return 0
		}
		return ids[i%len(ids)]
	}
	const workers, rounds = 16, 12
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			s := stores[w%2]
			for r := range rounds {
				var err error
				switch (w + r) % 5 {
				case 0:
					e := &restauth.EmailAddress{UserID: u.ID, Email: fmt.Sprintf("w%d-r%d@example.com", w, r), Primary: r%2 == 0, Verified: r%3 == 0}
					if err = s.AddEmailAddress(ctx, e); err == nil {
						mu.Lock()
						ids = append(ids, e.ID)
						mu.Unlock()
					}
				case 1:
					_, err = s.SetPrimaryEmailAddress(ctx, pick(w*rounds+r))
				case 2:
					_, err = s.VerifyEmailAddress(ctx, pick(w*rounds+r), true)
				case 3:
					err = s.DeleteEmailAddress(ctx, pick(w*rounds+r))
				case 4:
					name := fmt.Sprint(w, r)
					_, err = s.UpdateUser(ctx, u.ID, restauth.UserUpdate{FirstName: &name})
					if err == nil {
						err = s.CreateToken(ctx, &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte(name))})
					}
				}
				if err != nil && !errors.Is(err, restauth.ErrNotFound) {
					errs[w] = fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	es, err := stores[1].EmailAddresses(ctx, u.ID)
	require.NoError(t, err)
	var primary []string
	for _, e := range es {
		if e.Primary {
			primary = append(primary, e.Email)
		}
	}
	require.LessOrEqual(t, len(primary), 1, "primaries: %v", primary)
	got, err := stores[0].UserByID(ctx, u.ID)
	require.NoError(t, err)
	if len(primary) == 1 {
		assert.Equal(t, primary[0], got.Email)
	} else {
		assert.Empty(t, got.Email)
	}
}

// With WithSchema(""), names are unqualified and the tables go where the connection's
// search_path says.
func TestSearchPathSchema(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	ctx := t.Context()
	_, err := sharedPool(t).Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err)
	pool := newPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.RuntimeParams["search_path"] = schema })
	s, err := pgstore.New(ctx, pool, pgstore.WithSchema(""))
	require.NoError(t, err)
	defer s.Close()
	assert.Empty(t, s.Schema())
	u := &restauth.User{Username: "unqualified"}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	var n int
	require.NoError(t, sharedPool(t).QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "users"}.Sanitize()).Scan(&n))
	assert.Equal(t, 1, n)
	assert.Equal(t, shippedVersions(t), migrationVersions(t, sharedPool(t), schema))
}
