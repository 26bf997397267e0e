package sqlitestore_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/migrations"
	"github.com/restauth/restauth/sqlitestore"
	"github.com/restauth/restauth/storetest"
)

// releaseDir holds the migrations of the last landed release (see its README): a database
// that release created must open with today's store and keep its data.
const releaseDir = "testdata/release-0.1.0"

// releaseDB creates at path a database as the last release's store left it: that release's
// migrations applied and recorded the way its migrate did, and, when fill is set, two users
// with every kind of row, written with plain SQL against that release's schema.
func releaseDB(t *testing.T, path string, fill bool) {
	t.Helper()
	ctx := t.Context()
	ms, err := migrations.Load(os.DirFS(releaseDir), "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	rel := storetest.ReleaseFixture()
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := tx.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
) STRICT`)
	for _, m := range ms {
		exec(m.SQL)
		exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, rel.Joined.UnixMicro())
	}
	if fill {
		const alice, bob = `(SELECT id FROM users WHERE username = 'alice')`, `(SELECT id FROM users WHERE username = 'bob')`
		exec(`INSERT INTO users (username, email, first_name, last_name, password, is_active, is_staff, is_superuser, date_joined, last_login)
VALUES ('alice', 'alice@example.com', 'Alice', 'Liddell', ?, 1, 1, 0, ?, ?)`,
			rel.PasswordHash, rel.Joined.UnixMicro(), rel.Login.UnixMicro())
		exec(`INSERT INTO users (username, date_joined) VALUES ('bob', ?)`, rel.Joined.UnixMicro())
		exec(`INSERT INTO email_addresses (user_id, email, verified, is_primary) VALUES
(` + alice + `, 'alice@example.com', 1, 1), (` + alice + `, 'Alice.Work@Example.com', 0, 0), (` + bob + `, 'bob@example.com', 0, 0)`)
		exec(`INSERT INTO api_tokens (user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked)
VALUES (`+alice+`, ?, 'inv-0123', 'a1b-20250630', 'laptop', ?, ?, ?, 0), (`+alice+`, ?, 'inv-9876', 'ffe-00000000', 'old', ?, NULL, NULL, 1)`,
			rel.Key[:], rel.Joined.UnixMicro(), rel.Expiry.UnixMicro(), rel.Seen.UnixMicro(), rel.OldKey[:], rel.Joined.UnixMicro())
		exec(`INSERT INTO social_accounts (user_id, provider, uid, last_login, date_joined, extra_data) VALUES (`+alice+`, 'github', '4242', ?, ?, ?)`,
			rel.Login.UnixMicro(), rel.Joined.UnixMicro(), rel.ExtraData)
		exec(`INSERT INTO totp_devices (user_id, sealed_secret, confirmed, created, last_step) VALUES (`+alice+`, ?, 1, ?, ?)`,
			rel.Sealed, rel.Joined.UnixMicro(), rel.LastStep)
		exec(`INSERT INTO recovery_codes (user_id, hash, used) VALUES (`+alice+`, ?, NULL), (`+alice+`, ?, ?)`,
			rel.CodeFresh[:], rel.CodeUsed[:], rel.Login.UnixMicro())
		// Sessions of the release's format, keyed by the browser's id itself.
		exec(`INSERT INTO sessions (token, data, expiry) VALUES ('raw-session-id', x'00', 32503680000000000), ('other-session-id', x'01', 32503680000000000)`)
	}
	require.NoError(t, tx.Commit())
}

// upgradedStore opens, with today's store (its normal Open and migrate path), a database
// releaseDB made; the store is closed when the test ends.
func upgradedStore(t *testing.T, fill bool) *sqlitestore.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "release.db")
	releaseDB(t, path, fill)
	s, err := sqlitestore.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// migrationVersions returns the versions schema_migrations records, in order.
func migrationVersions(t *testing.T, db *sql.DB) []int64 {
	t.Helper()
	var versions []int64
	rows, err := db.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	require.NoError(t, err)
	for rows.Next() {
		var v int64
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	return versions
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

// sqliteCount returns the number of rows in table.
func sqliteCount(t *testing.T, s *sqlitestore.Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

// A database of the last release, filled through its schema, upgrades to today's schema
// and keeps every user, address, token, social account, TOTP device and recovery code,
// with every rule still enforced on them. Its sessions are gone: migration 0003 deletes
// the sessions stored by their raw id (documented there), so every browser logs in again.
func TestUpgradeFromLastRelease(t *testing.T) {
	t.Parallel()
	s := upgradedStore(t, true)

	today, err := migrations.Load(os.DirFS("migrations"), "*.sql")
	require.NoError(t, err)
	var want []int64
	for _, m := range today {
		want = append(want, m.Version)
	}
	assert.Equal(t, want, migrationVersions(t, s.DB()), "every migration of today is recorded once")
	assert.Zero(t, sqliteCount(t, s, "sessions"), "0003 ends the sessions stored by their raw id")

	storetest.CheckUpgraded(t, s)
	for _, table := range storetest.ReleaseFixture().UserTables {
		assert.Zero(t, sqliteCount(t, s, table), "%s went with their users", table)
	}
}

// The conformance suite passes on stores upgraded from the last release: each subtest gets
// a database of that release, filled, upgraded and emptied through today's store.
func TestStoreUpgradedFromLastRelease(t *testing.T) {
	storetest.Run(t, func(t *testing.T) restauth.Store {
		s := upgradedStore(t, true)
		storetest.DeleteReleaseUsers(t, s)
		return s
	})
}
