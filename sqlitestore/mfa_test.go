package sqlitestore_test

import (
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
)

// A database made by a version of the store that knew only migration 0001 gets the later
// ones when opened, and keeps its data.
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
	} {
		_, err := old.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	require.NoError(t, old.Close())

	s, err := sqlitestore.Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	var versions []int64
	rows, err := s.DB().QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	require.NoError(t, err)
	for rows.Next() {
		var v int64
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	assert.Equal(t, []int64{1, 2}, versions)

	u, err := s.UserByUsername(ctx, "OLD")
	require.NoError(t, err)
	require.NoError(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("sealed")}))
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{sha256.Sum256([]byte("c"))}))
	require.NoError(t, s.DeleteUser(ctx, u.ID))
	var n int
	require.NoError(t, s.DB().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM totp_devices) + (SELECT count(*) FROM recovery_codes)`).Scan(&n))
	assert.Zero(t, n, "the MFA rows went with the user")
}

func TestMFA(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := t.Context()
	u := &restauth.User{Username: "mfa"}
	require.NoError(t, s.CreateUser(ctx, u, nil))

	_, err := s.TOTPDevice(ctx, u.ID)
	require.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = s.UseTOTPStep(ctx, u.ID, 1, true)
	require.ErrorIs(t, err, restauth.ErrNotFound, "no device")
	require.ErrorIs(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: 999, SealedSecret: []byte("x")}), restauth.ErrNotFound)

	east := time.FixedZone("UTC+5", 5*3600)
	created := time.Date(2025, 3, 1, 2, 30, 0, 123456789, east)
	d := &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("sealed"), Created: created}
	require.NoError(t, s.CreateTOTPDevice(ctx, d))
	err = s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("other")})
	var ce *restauth.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "totp", ce.Field)

	got, err := s.TOTPDevice(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("sealed"), Created: created.UTC().Truncate(time.Microsecond)}, got)
	assert.Equal(t, time.UTC, got.Created.Location())

	ok, err := s.UseTOTPStep(ctx, u.ID, 10, false)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.UseTOTPStep(ctx, u.ID, 10, true)
	require.NoError(t, err)
	assert.False(t, ok, "a step is accepted once")
	got, err = s.TOTPDevice(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(10), got.LastStep)
	assert.False(t, got.Confirmed, "a refused step confirms nothing")
	ok, err = s.UseTOTPStep(ctx, u.ID, 11, true)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.UseTOTPStep(ctx, u.ID, 12, false)
	require.NoError(t, err)
	assert.True(t, ok)
	got, err = s.TOTPDevice(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(12), got.LastStep)
	assert.True(t, got.Confirmed, "confirmed stays")

	h := func(s string) [32]byte { return sha256.Sum256([]byte(s)) }
	require.ErrorIs(t, s.ReplaceRecoveryCodes(ctx, 999, nil), restauth.ErrNotFound)
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{h("a"), h("b"), h("c")}))
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{h("d"), h("e")}))
	codes, err := s.RecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, codes, 2)
	assert.Equal(t, h("d"), codes[0].Hash)
	assert.Equal(t, h("e"), codes[1].Hash)
	assert.Less(t, codes[0].ID, codes[1].ID)
	assert.True(t, codes[0].Used.IsZero())
	require.ErrorIs(t, s.UseRecoveryCode(ctx, u.ID, h("a"), time.Now()), restauth.ErrNotFound, "replaced")
	at := time.Date(2025, 3, 2, 0, 0, 0, 987654321, east)
	require.NoError(t, s.UseRecoveryCode(ctx, u.ID, h("e"), at))
	require.ErrorIs(t, s.UseRecoveryCode(ctx, u.ID, h("e"), at), restauth.ErrNotFound, "used")
	codes, err = s.RecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	assert.True(t, codes[0].Used.IsZero())
	assert.Equal(t, at.UTC().Truncate(time.Microsecond), codes[1].Used)
	assert.Equal(t, time.UTC, codes[1].Used.Location())

	require.NoError(t, s.DeleteTOTPDevice(ctx, u.ID))
	require.NoError(t, s.DeleteTOTPDevice(ctx, u.ID), "deleting nothing")
	require.NoError(t, s.DeleteTOTPDevice(ctx, 999), "unknown user")
	_, err = s.TOTPDevice(ctx, u.ID)
	require.ErrorIs(t, err, restauth.ErrNotFound)
	codes, err = s.RecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, codes, "the codes went with the device")
}

// Of concurrent uses of one TOTP step, or one recovery code, by two stores on one file,
// exactly one succeeds.
func TestMFASingleUseAcrossStores(t *testing.T) {
	t.Parallel()
	a, path := open(t)
	b, err := sqlitestore.Open(t.Context(), path)
	require.NoError(t, err)
	defer b.Close()
	stores := []*sqlitestore.Store{a, b}
	ctx := t.Context()
	u := &restauth.User{Username: "race"}
	require.NoError(t, a.CreateUser(ctx, u, nil))
	require.NoError(t, a.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("s")}))
	code := sha256.Sum256([]byte("code"))
	require.NoError(t, a.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{code}))

	const n = 20
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		steps, recovered int
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := stores[i%2].UseTOTPStep(ctx, u.ID, 7, true)
			assert.NoError(t, err)
			rerr := stores[i%2].UseRecoveryCode(ctx, u.ID, code, time.Now())
			if rerr != nil {
				assert.ErrorIs(t, rerr, restauth.ErrNotFound)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				steps++
			}
			if rerr == nil {
				recovered++
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, 1, steps)
	assert.Equal(t, 1, recovered)
}
