package pgstore_test

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
	"github.com/restauth/restauth/storetest"
)

// A schema made by a version of the store that knew only migration 0001 gets the later
// ones, and keeps its data, except its sessions (0003).
func TestMigrationUpgradeFrom0001(t *testing.T) {
	t.Parallel()
	pool := sharedPool(t)
	schema := newSchema(t)
	ctx := t.Context()
	init, err := os.ReadFile(filepath.Join("migrations", "0001_init.sql"))
	require.NoError(t, err)
	ident := pgx.Identifier{schema}.Sanitize()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			"CREATE SCHEMA " + ident,
			"SET LOCAL search_path TO " + ident,
			string(init),
			`CREATE TABLE schema_migrations (version bigint PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
			`INSERT INTO schema_migrations (version) VALUES (1)`,
			`INSERT INTO users (username) VALUES ('old')`,
			// A session of the old format, keyed by the browser's id itself.
			`INSERT INTO sessions (token, data, expiry) VALUES ('raw-session-id', '\x00', now() + interval '1 day')`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, migrationVersions(t, pool, schema))

	s, err := pgstore.New(ctx, pool, pgstore.WithSchema(schema))
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, shippedVersions(t), migrationVersions(t, pool, schema))
	assert.Zero(t, count(t, s, "sessions"), "0003 ends the sessions stored by their raw id")

	u, err := s.UserByUsername(ctx, "OLD")
	require.NoError(t, err)
	require.NoError(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("sealed")}))
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{sha256.Sum256([]byte("c"))}))
	require.NoError(t, s.DeleteUser(ctx, u.ID))
	assert.Zero(t, count(t, s, "totp_devices")+count(t, s, "recovery_codes"), "the MFA rows went with the user")
}

// Two instances on one schema hold every single-use and uniqueness rule between them.
func TestStoreShared(t *testing.T) {
	dsn := testDSN(t)
	storetest.RunShared(t, func(t *testing.T) (restauth.Store, restauth.Store) {
		schema := newSchema(t)
		var stores [2]restauth.Store
		for i := range stores {
			s, err := pgstore.Open(t.Context(), dsn, pgstore.WithSchema(schema))
			require.NoError(t, err)
			t.Cleanup(s.Close)
			stores[i] = s
		}
		return stores[0], stores[1]
	})
}
