package sqlitestore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"

	"github.com/restauth/restauth"
)

// compileCounter counts, through an authorizer on one connection, how often SQLite
// compiles a SELECT there: the authorizer is consulted while a statement is prepared
// (and re-prepared), never while a prepared statement merely runs.
func compileCounter(t *testing.T, db *sql.DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	c, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Raw(func(dc any) error {
		return dc.(sqlite.AuthorizerRegisterer).RegisterAuthorizer(
			func(action sqlite.AuthorizerActionCode, _, _, _, _ string) sqlite.AuthorizerReturnCode {
				if action == sqlite.AuthSelect {
					n.Add(1)
				}
				return sqlite.AuthorizerOK
			})
	}))
	return &n
}

// After ANALYZE and PRAGMA optimize (which SQLite advises running regularly), the token
// lookups still run their prepared statements as prepared: sqlite_stat4 samples of the
// tables they read would make SQLite re-plan a statement whose plan may depend on the
// bound value, on every call.
func TestTokenLookupsNotReprepared(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "stat4.db"), WithMaxReadConns(1))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	hashes := make([][32]byte, 0, 200)
	for i := range 20 {
		u := &restauth.User{Username: fmt.Sprintf("u%d", i), IsActive: true}
		require.NoError(t, s.CreateUser(ctx, u, nil))
		for j := range 10 {
			h := sha256.Sum256(fmt.Appendf(nil, "%d-%d", i, j))
			hashes = append(hashes, h)
			require.NoError(t, s.CreateToken(ctx, &restauth.APIToken{UserID: u.ID, KeyHash: h, Created: time.Now()}))
		}
	}
	// A table of skewed blobs under a non-unique index, where sqlite_stat4's samples do
	// make SQLite plan "b = ?" with each bound value.
	_, err = s.wdb.ExecContext(ctx, `CREATE TABLE skewed (b BLOB); CREATE INDEX skewed_b ON skewed (b)`)
	require.NoError(t, err)
	for i := range 500 {
		_, err = s.wdb.ExecContext(ctx, `INSERT INTO skewed VALUES (?)`, []byte{byte(i % 7)})
		require.NoError(t, err)
	}
	_, err = s.wdb.ExecContext(ctx, `ANALYZE`)
	require.NoError(t, err)
	_, err = s.wdb.ExecContext(ctx, `PRAGMA optimize`)
	require.NoError(t, err)

	// The plans stay the unique index and the users' primary key.
	for q, want := range map[string][]string{
		tokenUserByHashSQL: {"SEARCH t USING INDEX api_tokens_key_hash_key (key_hash=?)", "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"},
		tokenByHashSQL:     {"SEARCH api_tokens USING INDEX api_tokens_key_hash_key (key_hash=?)"},
	} {
		rows, err := s.rdb.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, hashes[0][:])
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Close())
		require.Equal(t, want, plan, q)
	}

	skewed := func(q string) func(ctx context.Context, h [32]byte) error {
		st, err := s.rdb.PrepareContext(ctx, q)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return func(ctx context.Context, h [32]byte) error {
			var n int
			return st.QueryRowContext(ctx, h[:1]).Scan(&n)
		}
	}
	// What the CAST of the token lookups does, shown where it matters: the bare "b = ?" is
	// prepared again on every call (logged, since a later SQLite may stop doing so), the
	// CAST one never.
	bare := skewed(`SELECT count(*) FROM skewed WHERE b = ?`)
	compiles := compileCounter(t, s.rdb)
	require.NoError(t, bare(ctx, hashes[0]))
	before := compiles.Load()
	for i := range 20 {
		require.NoError(t, bare(ctx, hashes[i]))
	}
	t.Logf("a bare \"b = ?\" on a column with sqlite_stat4 samples: prepared again %d times in 20 calls", compiles.Load()-before)

	lookups := map[string]func(ctx context.Context, h [32]byte) error{
		"skewed with CAST": skewed(`SELECT count(*) FROM skewed WHERE b = CAST(? AS BLOB)`),
		"TokenAndUserByHash": func(ctx context.Context, h [32]byte) error {
			_, _, err := s.TokenAndUserByHash(ctx, h)
			return err
		},
		"TokenByHash": func(ctx context.Context, h [32]byte) error {
			_, err := s.TokenByHash(ctx, h)
			return err
		},
	}
	for name, lookup := range lookups {
		// Setting the authorizer expires the connection's statements: the first call
		// prepares again (and loads the new statistics), the others must not.
		compiles := compileCounter(t, s.rdb)
		require.NoError(t, lookup(ctx, hashes[0]), name)
		before := compiles.Load()
		require.Positive(t, before, "the counter sees the statement prepared again")
		for i := range 100 {
			require.NoError(t, lookup(ctx, hashes[i*7%len(hashes)]), name)
		}
		require.Equal(t, before, compiles.Load(), "%s: compiled again in 100 calls", name)
	}
}

// The packed row of TokenAndUserByHash decodes to what TokenByHash and UserByID return,
// also for strings holding the packing's separators and multi-byte letters, and for NULL
// times; a malformed row is an error, not a panic.
func TestTokenAndUserByHashPackedRow(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "packed.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	u := &restauth.User{Username: "a b:1 ü", Email: "x:y z@example.com", FirstName: "Ünïcödé 12:",
		LastName: "", PasswordHash: "pbkdf2_sha256$1$s a:l$h", IsActive: true, IsSuperuser: true, DateJoined: time.Now()}
	require.NoError(t, s.CreateUser(ctx, u, nil))
	tk := &restauth.APIToken{UserID: u.ID, KeyHash: sha256.Sum256([]byte("packed")), KeyPrefix: "inv-1 2:", Name: "n:a m e 9:"}
	require.NoError(t, s.CreateToken(ctx, tk))

	gotToken, gotUser, err := s.TokenAndUserByHash(ctx, tk.KeyHash)
	require.NoError(t, err)
	wantToken, err := s.TokenByHash(ctx, tk.KeyHash)
	require.NoError(t, err)
	wantUser, err := s.UserByID(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, wantToken, gotToken)
	require.Equal(t, wantUser, gotUser)
	require.True(t, gotToken.Created.IsZero() && gotUser.LastLogin.IsZero(), "NULL times are zero")

	for _, bad := range []string{"", "1 2 - - - 0 1 0 0 - - ", "1 2 - - - 0 1 0 0 - - 3:ab", "x 2 - - - 0 1 0 0 - - 0:0:0:0:0:0:0:0:",
		"1 2 - - - 0 1 0 0 - - 0:0:0:0:0:0:0:0:extra", "1 2 - - - 0 1 0 0 - - -1:0:0:0:0:0:0:0:"} {
		require.ErrorIs(t, unpackTokenUser(bad, &restauth.APIToken{}, &restauth.User{}), errPackedRow, "%q", bad)
	}
	var pt restauth.APIToken
	var pu restauth.User
	require.NoError(t, unpackTokenUser("1 2 - - - 0 1 0 0 - - 0:0:0:0:0:0:0:0:", &pt, &pu))
	require.Equal(t, int64(2), pu.ID)
}

// The read connections have the page cache and memory map Open sets.
func TestReadConnectionSizing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		opts  []Option
		cache int64
		mmap  int64
	}{
		{"defaults", nil, -DefaultCacheKiB, DefaultMmapBytes},
		{"set", []Option{WithCacheSize(1024), WithMmapSize(0)}, -1024, 0},
	} {
		s, err := Open(ctx, filepath.Join(t.TempDir(), "sizing.db"), tc.opts...)
		require.NoError(t, err)
		var cache, mmap int64
		require.NoError(t, s.rdb.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache))
		require.NoError(t, s.rdb.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap))
		require.Equal(t, tc.cache, cache, tc.name)
		require.Equal(t, tc.mmap, mmap, tc.name)
		require.NoError(t, s.Close())
	}
}
