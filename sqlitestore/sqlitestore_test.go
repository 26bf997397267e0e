package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
	"github.com/restauth/restauth/storetest"
)

// open opens a store on a new file in t.TempDir(), closed when the test ends.
func open(t testing.TB, opts ...sqlitestore.Option) (*sqlitestore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "restauth.db")
	s, err := sqlitestore.Open(context.Background(), path, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s, path
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) restauth.Store {
		s, _ := open(t)
		return s
	})
}

func TestStoreInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("the file-backed run covers the same code; -short skips the in-memory one")
	}
	storetest.Run(t, func(t *testing.T) restauth.Store {
		s, err := sqlitestore.Open(t.Context(), ":memory:")
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, s.Close()) })
		return s
	})
}

// Registration races: of 100 concurrent creations of one username in different cases,
// exactly one succeeds and every other one is a clean username conflict (a 400, never a
// 500 such as SQLITE_BUSY).
func TestConcurrentCreateUser100(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	const name = "concurrentname" // 14 letters: more than 100 distinct case variants
	const n = 100
	ctx := t.Context()
	errs := make([]error, n)
	users := make([]*restauth.User, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		b := []byte(name)
		for j := range b {
			if i>>j&1 == 1 {
				b[j] -= 'a' - 'A'
			}
		}
		users[i] = &restauth.User{Username: string(b), IsActive: true, DateJoined: time.Now()}
		email := &restauth.EmailAddress{Email: fmt.Sprintf("racer%d@example.com", i), Primary: true}
		wg.Go(func() {
			<-start
			errs[i] = s.CreateUser(ctx, users[i], email)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two creations succeeded")
			winner = i
			continue
		}
		var ce *restauth.ConflictError
		require.ErrorAs(t, err, &ce, "creation %d: %v", i, err)
		require.Equal(t, "username", ce.Field)
	}
	require.NotEqual(t, -1, winner)
	got, err := s.UserByUsername(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, users[winner].ID, got.ID)

	var count int
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&count))
	assert.Equal(t, 1, count)
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM email_addresses`).Scan(&count))
	assert.Equal(t, 1, count, "refused users left no address behind")
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "reopen.db")
	s, err := sqlitestore.Open(ctx, path)
	require.NoError(t, err)
	u := &restauth.User{Username: "kept", DateJoined: time.Now()}
	require.NoError(t, s.CreateUser(ctx, u, &restauth.EmailAddress{Email: "kept@example.com", Verified: true, Primary: true}))
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("k")), Name: "n", Created: time.Now()}
	require.NoError(t, s.CreateToken(ctx, tk))
	migrations := func(db *sql.DB) (rows [][2]int64) {
		r, err := db.QueryContext(ctx, `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
		require.NoError(t, err)
		defer r.Close()
		for r.Next() {
			var v, at int64
			require.NoError(t, r.Scan(&v, &at))
			rows = append(rows, [2]int64{v, at})
		}
		require.NoError(t, r.Err())
		return rows
	}
	before := migrations(s.DB())
	require.NotEmpty(t, before)
	require.NoError(t, s.Close())

	time.Sleep(2 * time.Millisecond) // a re-run would record a later applied_at
	s, err = sqlitestore.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, before, migrations(s.DB()), "reopening applies no migration again")

	got, err := s.UserByUsername(ctx, "KEPT")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	assert.Equal(t, "kept@example.com", got.Email)
	gt, err := s.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err)
	assert.Equal(t, tk.ID, gt.ID)
	// The uniqueness rules still hold after a reopen.
	err = s.CreateUser(ctx, &restauth.User{Username: "KEPT"}, nil)
	var ce *restauth.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "username", ce.Field)

	var mode string
	require.NoError(t, s.DB().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode))
	assert.Equal(t, "wal", mode)
	var fk bool
	require.NoError(t, s.DB().QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk))
	assert.True(t, fk)
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "newer.db")
	s, err := sqlitestore.Open(ctx, path)
	require.NoError(t, err)
	_, err = s.DB().ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)`)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = sqlitestore.Open(ctx, path)
	require.ErrorContains(t, err, "9999")
}

func TestOpenPathNeedingEscapes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "odd ?name#%.db")
	s, err := sqlitestore.Open(t.Context(), path)
	require.NoError(t, err)
	require.NoError(t, s.CreateUser(t.Context(), &restauth.User{Username: "a"}, nil))
	require.NoError(t, s.Close())
	assert.FileExists(t, path)
}

// Case is folded for ASCII letters only, as SQLite's lower() does; the store documents it.
func TestUsernameFoldingIsASCII(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := t.Context()
	require.NoError(t, s.CreateUser(ctx, &restauth.User{Username: "ÉLODIE"}, nil))
	require.NoError(t, s.CreateUser(ctx, &restauth.User{Username: "élodie"}, nil), "non-ASCII letters are compared exactly")
	got, err := s.UserByUsername(ctx, "Élodie")
	require.NoError(t, err, "ASCII letters still fold")
	assert.Equal(t, "ÉLODIE", got.Username)
}

// A write that waits for the single write connection gives up with its context.
func TestWriteHonoursContext(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	tx, err := s.DB().BeginTx(t.Context(), nil) // holds the write connection
	require.NoError(t, err)
	defer tx.Rollback()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err = s.CreateUser(ctx, &restauth.User{Username: "late"}, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, tx.Rollback())
	require.NoError(t, s.CreateUser(t.Context(), &restauth.User{Username: "late"}, nil))
}

func TestSessionStore(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	st := s.SessionStore()
	ctx := t.Context()

	_, found, err := st.Find("missing")
	require.NoError(t, err)
	assert.False(t, found)

	require.NoError(t, st.Commit("tok1", []byte("data1"), time.Now().Add(time.Hour)))
	b, found, err := st.Find("tok1")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []byte("data1"), b)

	// Commit replaces data and expiry.
	require.NoError(t, st.CommitCtx(ctx, "tok1", []byte("data2"), time.Now().Add(2*time.Hour)))
	b, found, err = st.FindCtx(ctx, "tok1")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []byte("data2"), b)

	// An expired session is not found, nor listed.
	require.NoError(t, st.Commit("old", []byte("x"), time.Now().Add(-time.Second)))
	_, found, err = st.Find("old")
	require.NoError(t, err)
	assert.False(t, found)
	require.NoError(t, st.Commit("soon", []byte("y"), time.Now().Add(100*time.Millisecond)))
	_, found, err = st.Find("soon")
	require.NoError(t, err)
	assert.True(t, found)

	all, err := st.All()
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"tok1": []byte("data2"), "soon": []byte("y")}, all)

	time.Sleep(150 * time.Millisecond)
	_, found, err = st.Find("soon")
	require.NoError(t, err)
	assert.False(t, found, "expired")

	n, err := s.DeleteExpiredSessions(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "old and soon")

	require.NoError(t, st.Delete("tok1"))
	_, found, err = st.Find("tok1")
	require.NoError(t, err)
	assert.False(t, found)
	require.NoError(t, st.DeleteCtx(ctx, "tok1"), "deleting an unknown token is no error")

	all, err = st.AllCtx(ctx)
	require.NoError(t, err)
	assert.NotNil(t, all)
	assert.Empty(t, all)
}

func TestSessionCleanup(t *testing.T) {
	t.Parallel()
	s, _ := open(t, sqlitestore.WithSessionCleanupInterval(20*time.Millisecond))
	st := s.SessionStore()
	require.NoError(t, st.Commit("gone", []byte("x"), time.Now().Add(-time.Minute)))
	require.NoError(t, st.Commit("kept", []byte("y"), time.Now().Add(time.Hour)))
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, s.DB().QueryRow(`SELECT count(*) FROM sessions`).Scan(&n))
		return n == 1
	}, 10*time.Second, 20*time.Millisecond, "the cleanup goroutine deletes expired sessions")
	_, found, err := st.Find("kept")
	require.NoError(t, err)
	assert.True(t, found)
	// Close (in the cleanup) stops the goroutine; a second Close is harmless.
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "c.db"))
	require.NoError(t, err)
	s.SessionStore()
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err = s.UserByID(context.Background(), 1)
	require.Error(t, err)
	require.False(t, errors.Is(err, restauth.ErrNotFound))
}

func BenchmarkTokenByHash(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	u := &restauth.User{Username: "bench", DateJoined: time.Now()}
	require.NoError(b, s.CreateUser(ctx, u, nil))
	var hash [32]byte
	for i := range 1000 {
		tk := &restauth.APIToken{
			UserID: u.ID, KeyHash: sha256.Sum256(fmt.Appendf(nil, "key-%d", i)),
			KeyPrefix: "inv-0123", KeySuffix: "abcd-20251201", Name: "bench",
			Created: time.Now(), Expiry: time.Now().AddDate(1, 0, 0), LastSeen: time.Now(),
		}
		require.NoError(b, s.CreateToken(ctx, tk))
		if i == 500 {
			hash = tk.KeyHash
		}
	}
	b.ReportAllocs()
	b.Run("found", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.TokenByHash(ctx, hash); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unknown", func(b *testing.B) {
		b.ReportAllocs()
		unknown := sha256.Sum256([]byte("unknown"))
		for b.Loop() {
			if _, err := s.TokenByHash(ctx, unknown); !errors.Is(err, restauth.ErrNotFound) {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.TokenByHash(ctx, hash); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// When a user adds again, verified, an address they hold verified, both the per-user and
// the verified-owner index refuse the row; the answer is the more specific "user_email".
func TestAddEmailOwnVerifiedDuplicate(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := t.Context()
	u := &restauth.User{Username: "a"}
	require.NoError(t, s.CreateUser(ctx, u, &restauth.EmailAddress{Email: "a@example.com", Verified: true, Primary: true}))
	err := s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: u.ID, Email: "A@Example.com", Verified: true})
	var ce *restauth.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "user_email", ce.Field)
}

// The contract says UsersByEmail("") is always empty, even though users without an
// address hold User.Email == ""; the conformance suite does not check it.
func TestUsersByEmptyEmail(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	require.NoError(t, s.CreateUser(t.Context(), &restauth.User{Username: "noemail"}, nil))
	us, err := s.UsersByEmail(t.Context(), "")
	require.NoError(t, err)
	assert.Empty(t, us)
}
