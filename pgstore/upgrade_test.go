package pgstore_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/migrations"
	"github.com/restauth/restauth/pgstore"
	"github.com/restauth/restauth/storetest"
)

// releaseDir holds the migrations of the last landed release (see its README): a schema
// that release created must open with today's store and keep its data.
const releaseDir = "testdata/release-0.1.0"

// releaseSchema creates schema as the last release's store left it: that release's
// migrations applied and recorded the way its migrate did, and, when fill is set, two users
// with every kind of row, written with plain SQL against that release's schema.
func releaseSchema(t *testing.T, schema string, fill bool) {
	t.Helper()
	ctx := t.Context()
	ms, err := migrations.Load(os.DirFS(releaseDir), "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	ident := pgx.Identifier{schema}.Sanitize()
	err = pgx.BeginFunc(ctx, sharedPool(t), func(tx pgx.Tx) error {
		exec := func(q string, args ...any) {
			t.Helper()
			_, err := tx.Exec(ctx, q, args...)
			require.NoError(t, err, q)
		}
		exec("CREATE SCHEMA " + ident)
		exec("SET LOCAL search_path TO " + ident)
		exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
	version    bigint PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`)
		for _, m := range ms {
			exec(m.SQL)
			exec("INSERT INTO schema_migrations (version) VALUES ($1)", m.Version)
		}
		if !fill {
			return nil
		}
		rel := storetest.ReleaseFixture()
		const alice, bob = `(SELECT id FROM users WHERE username = 'alice')`, `(SELECT id FROM users WHERE username = 'bob')`
		exec(`INSERT INTO users (username, email, first_name, last_name, password, is_active, is_staff, is_superuser, date_joined, last_login)
VALUES ('alice', 'alice@example.com', 'Alice', 'Liddell', $1, true, true, false, $2, $3)`,
			rel.PasswordHash, rel.Joined, rel.Login)
		exec(`INSERT INTO users (username, date_joined) VALUES ('bob', $1)`, rel.Joined)
		exec(`INSERT INTO email_addresses (user_id, email, verified, is_primary) VALUES
(` + alice + `, 'alice@example.com', true, true), (` + alice + `, 'Alice.Work@Example.com', false, false), (` + bob + `, 'bob@example.com', false, false)`)
		exec(`INSERT INTO api_tokens (user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked)
VALUES (`+alice+`, $1, 'inv-0123', 'a1b-20250630', 'laptop', $2, $3, $4, false), (`+alice+`, $5, 'inv-9876', 'ffe-00000000', 'old', $2, NULL, NULL, true)`,
			rel.Key[:], rel.Joined, rel.Expiry, rel.Seen, rel.OldKey[:])
		exec(`INSERT INTO social_accounts (user_id, provider, uid, last_login, date_joined, extra_data) VALUES (`+alice+`, 'github', '4242', $1, $2, $3)`,
			rel.Login, rel.Joined, rel.ExtraData)
		exec(`INSERT INTO totp_devices (user_id, sealed_secret, confirmed, created, last_step) VALUES (`+alice+`, $1, true, $2, $3)`,
			rel.Sealed, rel.Joined, rel.LastStep)
		exec(`INSERT INTO recovery_codes (user_id, hash, used) VALUES (`+alice+`, $1, NULL), (`+alice+`, $2, $3)`,
			rel.CodeFresh[:], rel.CodeUsed[:], rel.Login)
		// Sessions of the release's format, keyed by the browser's id itself.
		exec(`INSERT INTO sessions (token, data, expiry) VALUES ('raw-session-id', '\x00', now() + interval '1 day'), ('other-session-id', '\x01', now() + interval '1 day')`)
		return nil
	})
	require.NoError(t, err)
}

// upgradedStore opens, with today's store (its normal New and migrate path), a schema of
// its own that releaseSchema made; the schema is dropped and the store closed when the
// test ends.
func upgradedStore(t *testing.T, fill bool) *pgstore.Store {
	t.Helper()
	schema := newSchema(t)
	releaseSchema(t, schema, fill)
	s, err := pgstore.New(t.Context(), sharedPool(t), pgstore.WithSchema(schema))
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// A schema of the last release, filled through its tables, upgrades to today's schema and
// keeps every user, address, token, social account, TOTP device and recovery code, with
// every rule still enforced on them. Its sessions are gone: migration 0003 deletes the
// sessions stored by their raw id (documented there), so every browser logs in again.
func TestUpgradeFromLastRelease(t *testing.T) {
	t.Parallel()
	s := upgradedStore(t, true)

	today, err := migrations.Load(os.DirFS("migrations"), "*.sql")
	require.NoError(t, err)
	var want []int64
	for _, m := range today {
		want = append(want, m.Version)
	}
	assert.Equal(t, want, migrationVersions(t, s.Pool(), s.Schema()), "every migration of today is recorded once")
	assert.Zero(t, count(t, s, "sessions"), "0003 ends the sessions stored by their raw id")

	storetest.CheckUpgraded(t, s)
	for _, table := range storetest.ReleaseFixture().UserTables {
		assert.Zero(t, count(t, s, table), "%s went with their users", table)
	}
}

// The conformance suite passes on stores upgraded from the last release: each subtest gets
// a schema of that release, filled, upgraded and emptied through today's store.
func TestStoreUpgradedFromLastRelease(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) restauth.Store {
		s := upgradedStore(t, true)
		storetest.DeleteReleaseUsers(t, s)
		return s
	})
}
