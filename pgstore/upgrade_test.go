package pgstore_test

import (
	"crypto/sha256"
	"errors"
	"os"
	"testing"
	"time"

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

// The times of the release data: microsecond precision with a sub-second part, as the
// store keeps them, and UTC days for the token dates.
var (
	relJoined = time.Date(2024, 3, 1, 10, 20, 30, 123456000, time.UTC)
	relLogin  = time.Date(2025, 1, 2, 3, 4, 5, 654321000, time.UTC)
	relExpiry = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	relSeen   = time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
)

// The secrets' stand-ins of the release data.
var (
	relKey       = sha256.Sum256([]byte("release-key"))
	relOldKey    = sha256.Sum256([]byte("release-old-key"))
	relCodeFresh = sha256.Sum256([]byte("release-code-fresh"))
	relCodeUsed  = sha256.Sum256([]byte("release-code-used"))
	relSealed    = []byte("sealed-by-the-release")
	relExtra     = []byte(`{"login": "alice", "id": 4242}`)
)

// relLastStep is the TOTP step the release accepted last for alice.
const relLastStep = 58_000_000

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
		const alice, bob = `(SELECT id FROM users WHERE username = 'alice')`, `(SELECT id FROM users WHERE username = 'bob')`
		exec(`INSERT INTO users (username, email, first_name, last_name, password, is_active, is_staff, is_superuser, date_joined, last_login)
VALUES ('alice', 'alice@example.com', 'Alice', 'Liddell', 'pbkdf2_sha256$870000$salt$hash=', true, true, false, $1, $2)`,
			relJoined, relLogin)
		exec(`INSERT INTO users (username, date_joined) VALUES ('bob', $1)`, relJoined)
		exec(`INSERT INTO email_addresses (user_id, email, verified, is_primary) VALUES
(` + alice + `, 'alice@example.com', true, true), (` + alice + `, 'Alice.Work@Example.com', false, false), (` + bob + `, 'bob@example.com', false, false)`)
		exec(`INSERT INTO api_tokens (user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked)
VALUES (`+alice+`, $1, 'inv-0123', 'a1b-20250630', 'laptop', $2, $3, $4, false), (`+alice+`, $5, 'inv-9876', 'ffe-00000000', 'old', $2, NULL, NULL, true)`,
			relKey[:], relJoined, relExpiry, relSeen, relOldKey[:])
		exec(`INSERT INTO social_accounts (user_id, provider, uid, last_login, date_joined, extra_data) VALUES (`+alice+`, 'github', '4242', $1, $2, $3)`,
			relLogin, relJoined, relExtra)
		exec(`INSERT INTO totp_devices (user_id, sealed_secret, confirmed, created, last_step) VALUES (`+alice+`, $1, true, $2, $3)`,
			relSealed, relJoined, relLastStep)
		exec(`INSERT INTO recovery_codes (user_id, hash, used) VALUES (`+alice+`, $1, NULL), (`+alice+`, $2, $3)`,
			relCodeFresh[:], relCodeUsed[:], relLogin)
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

	checkReleaseData(t, s)
	for _, table := range []string{"email_addresses", "api_tokens", "social_accounts", "totp_devices", "recovery_codes"} {
		assert.Zero(t, count(t, s, table), "%s went with their users", table)
	}
}

// The conformance suite passes on stores upgraded from the last release: each subtest gets
// a schema of that release, filled, upgraded and emptied through today's store.
func TestStoreUpgradedFromLastRelease(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) restauth.Store {
		s := upgradedStore(t, true)
		for _, name := range []string{"alice", "bob"} {
			u, err := s.UserByUsername(t.Context(), name)
			require.NoError(t, err)
			require.NoError(t, s.DeleteUser(t.Context(), u.ID))
		}
		return s
	})
}

// checkReleaseData checks, through today's Store alone, what releaseDB wrote, then that
// the upgraded schema still enforces its rules on those rows and that deleting the users
// takes their rows along. It leaves the store without users.
func checkReleaseData(t *testing.T, s restauth.Store) {
	t.Helper()
	ctx := t.Context()

	alice, err := s.UserByUsername(ctx, "ALICE")
	require.NoError(t, err)
	assert.Equal(t, restauth.User{
		ID: alice.ID, Username: "alice", Email: "alice@example.com", FirstName: "Alice", LastName: "Liddell",
		PasswordHash: "pbkdf2_sha256$870000$salt$hash=", IsActive: true, IsStaff: true,
		DateJoined: relJoined, LastLogin: relLogin,
	}, utcUser(*alice))
	bob, err := s.UserByUsername(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, restauth.User{ID: bob.ID, Username: "bob", DateJoined: relJoined}, utcUser(*bob))
	byID, err := s.UserByID(ctx, alice.ID)
	require.NoError(t, err)
	assert.Equal(t, utcUser(*alice), utcUser(*byID))
	byEmail, err := s.UsersByEmail(ctx, "ALICE.work@example.COM")
	require.NoError(t, err)
	require.Len(t, byEmail, 1)
	assert.Equal(t, alice.ID, byEmail[0].ID)

	addrs, err := s.EmailAddresses(ctx, alice.ID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []restauth.EmailAddress{
		{UserID: alice.ID, Email: "alice@example.com", Verified: true, Primary: true},
		{UserID: alice.ID, Email: "Alice.Work@Example.com"},
	}, withoutIDs(addrs))
	addrs, err = s.EmailAddresses(ctx, bob.ID)
	require.NoError(t, err)
	assert.Equal(t, []restauth.EmailAddress{{UserID: bob.ID, Email: "bob@example.com"}}, withoutIDs(addrs))

	tok, err := s.TokenByHash(ctx, relKey)
	require.NoError(t, err)
	assert.Equal(t, restauth.APIToken{
		ID: tok.ID, UserID: alice.ID, KeyHash: relKey, KeyPrefix: "inv-0123", KeySuffix: "a1b-20250630",
		Name: "laptop", Created: relJoined, Expiry: relExpiry, LastSeen: relSeen,
	}, utcToken(*tok))
	old, err := s.TokenByHash(ctx, relOldKey)
	require.NoError(t, err)
	assert.Equal(t, restauth.APIToken{
		ID: old.ID, UserID: alice.ID, KeyHash: relOldKey, KeyPrefix: "inv-9876", KeySuffix: "ffe-00000000",
		Name: "old", Created: relJoined, Revoked: true,
	}, utcToken(*old))
	toks, err := s.Tokens(ctx, alice.ID)
	require.NoError(t, err)
	assert.Len(t, toks, 2)
	if tus, ok := s.(restauth.TokenUserStore); ok {
		jt, ju, err := tus.TokenAndUserByHash(ctx, relKey)
		require.NoError(t, err)
		assert.Equal(t, tok.ID, jt.ID)
		assert.Equal(t, utcUser(*alice), utcUser(*ju))
	}

	sa, err := s.SocialAccountByUID(ctx, "github", "4242")
	require.NoError(t, err)
	assert.Equal(t, restauth.SocialAccount{
		ID: sa.ID, UserID: alice.ID, Provider: "github", UID: "4242",
		LastLogin: relLogin, DateJoined: relJoined, ExtraData: relExtra,
	}, utcSocial(*sa))

	dev, err := s.TOTPDevice(ctx, alice.ID)
	require.NoError(t, err)
	assert.Equal(t, restauth.TOTPDevice{
		UserID: alice.ID, SealedSecret: relSealed, Confirmed: true, Created: relJoined, LastStep: relLastStep,
	}, restauth.TOTPDevice{
		UserID: dev.UserID, SealedSecret: dev.SealedSecret, Confirmed: dev.Confirmed, Created: dev.Created.UTC(), LastStep: dev.LastStep,
	})
	ok, err := s.UseTOTPStep(ctx, alice.ID, relSealed, relLastStep, false)
	require.NoError(t, err)
	assert.False(t, ok, "the step the release accepted last is still refused")
	ok, err = s.UseTOTPStep(ctx, alice.ID, relSealed, relLastStep+1, false)
	require.NoError(t, err)
	assert.True(t, ok)

	codes, err := s.RecoveryCodes(ctx, alice.ID)
	require.NoError(t, err)
	require.Len(t, codes, 2)
	used := map[[32]byte]time.Time{}
	for _, c := range codes {
		assert.Equal(t, alice.ID, c.UserID)
		used[c.Hash] = c.Used.UTC()
	}
	assert.Equal(t, map[[32]byte]time.Time{relCodeFresh: {}, relCodeUsed: relLogin}, used)
	assert.ErrorIs(t, s.UseRecoveryCode(ctx, alice.ID, relCodeUsed, relLogin.Add(time.Hour)), restauth.ErrNotFound,
		"a code used under the release stays used")
	require.NoError(t, s.UseRecoveryCode(ctx, alice.ID, relCodeFresh, relLogin.Add(time.Hour)))

	// The rules hold on the release's rows, and new rows get new IDs.
	assertConflict(t, s.CreateUser(ctx, &restauth.User{Username: "Alice"}, nil), "username")
	assertConflict(t, s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: bob.ID, Email: "ALICE@example.com", Verified: true}), "email")
	assertConflict(t, s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: bob.ID, Email: "BOB@example.com"}), "user_email")
	assertConflict(t, s.CreateToken(ctx, &restauth.APIToken{UserID: bob.ID, KeyHash: relKey, Created: relLogin}), "token")
	assertConflict(t, s.CreateSocialAccount(ctx, &restauth.SocialAccount{UserID: bob.ID, Provider: "github", UID: "4242"}), "social")
	assertConflict(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: alice.ID, SealedSecret: []byte("x")}), "totp")
	carol := &restauth.User{Username: "carol", DateJoined: relLogin}
	require.NoError(t, s.CreateUser(ctx, carol, nil))
	assert.Greater(t, carol.ID, bob.ID, "IDs are not reused after the upgrade")
	require.NoError(t, s.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: carol.ID, Email: "carol@example.com"}))

	// Deleting the users takes every row of theirs along.
	for _, id := range []int64{alice.ID, bob.ID, carol.ID} {
		require.NoError(t, s.DeleteUser(ctx, id))
	}
	_, err = s.TokenByHash(ctx, relKey)
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = s.SocialAccountByUID(ctx, "github", "4242")
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = s.TOTPDevice(ctx, alice.ID)
	assert.ErrorIs(t, err, restauth.ErrNotFound)
}

func assertConflict(t *testing.T, err error, field string) {
	t.Helper()
	var ce *restauth.ConflictError
	if assert.True(t, errors.As(err, &ce), "want a ConflictError %q, got %v", field, err) {
		assert.Equal(t, field, ce.Field)
	}
}

func utcUser(u restauth.User) restauth.User {
	u.DateJoined, u.LastLogin = u.DateJoined.UTC(), u.LastLogin.UTC()
	return u
}

func utcToken(t restauth.APIToken) restauth.APIToken {
	t.Created, t.Expiry, t.LastSeen = t.Created.UTC(), t.Expiry.UTC(), t.LastSeen.UTC()
	return t
}

func utcSocial(a restauth.SocialAccount) restauth.SocialAccount {
	a.LastLogin, a.DateJoined = a.LastLogin.UTC(), a.DateJoined.UTC()
	return a
}

func withoutIDs(es []restauth.EmailAddress) []restauth.EmailAddress {
	out := make([]restauth.EmailAddress, len(es))
	for i, e := range es {
		e.ID = 0
		out[i] = e
	}
	return out
}
