package sqlitestore_test

import (
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
	"github.com/restauth/restauth/storetest"
)

// A database made by a version of the store that knew only migration 0001 gets the later
// ones when opened, and keeps its data, except its sessions (0003).
func TestMigrationUpgradeFrom0001(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	init, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	require.NoError(t, err)

	old, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`,
		string(init),
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)`,
		`INSERT INTO users (username) VALUES ('old')`,
		// A session of the old format, keyed by the browser's id itself.
		`INSERT INTO sessions (token, data, expiry) VALUES ('raw-session-id', x'00', 32503680000000000)`,
	} {
		_, err := old.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	require.NoError(t, old.Close())

	s, err := sqlitestore.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, shippedVersions(t), migrationVersions(t, s.DB()))
	var sessions int
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&sessions))
	assert.Zero(t, sessions, "0003 ends the sessions stored by their raw id")

	u, err := s.UserByUsername(ctx, "OLD")
	require.NoError(t, err)
	require.NoError(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("sealed")}))
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{sha256.Sum256([]byte("c"))}))
	require.NoError(t, s.DeleteUser(ctx, u.ID))
	var n int
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM totp_devices) + (SELECT count(*) FROM recovery_codes)`).Scan(&n))
	assert.Zero(t, n, "the MFA rows went with the user")
}

// Two stores on one file, as two instances of an application would be, hold every
// single-use and uniqueness rule between them, and fail no racing write with SQLITE_BUSY:
// write transactions begin IMMEDIATE and wait out the busy timeout.
func TestStoreShared(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) (restauth.Store, restauth.Store) {
		a, path := open(t)
		b, err := sqlitestore.Open(t.Context(), path)
		require.NoError(t, err)
		t.Cleanup(func() { b.Close() })
		return a, b
	})
}
