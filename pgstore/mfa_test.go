package pgstore_test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
)

// A schema made by a version of the store that knew only migration 0001 gets the later
// ones, and keeps its data.
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
	assert.Equal(t, []int64{1, 2}, migrationVersions(t, pool, schema))

	u, err := s.UserByUsername(ctx, "OLD")
	require.NoError(t, err)
	require.NoError(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("sealed")}))
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{sha256.Sum256([]byte("c"))}))
	require.NoError(t, s.DeleteUser(ctx, u.ID))
	assert.Zero(t, count(t, s, "totp_devices")+count(t, s, "recovery_codes"), "the MFA rows went with the user")
}

func TestMFA(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	u := &restauth.User{Username: "mfa"}
	require.NoError(t, s.CreateUser(ctx, u, nil))

	_, err := s.TOTPDevice(ctx, u.ID)
	require.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = s.UseTOTPStep(ctx, u.ID, 1, true)
	require.ErrorIs(t, err, restauth.ErrNotFound, "no device")
	require.ErrorIs(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID + 1000, SealedSecret: []byte("x")}), restauth.ErrNotFound)

	east := time.FixedZone("UTC+5", 5*3600)
	created := time.Date(2025, 3, 1, 2, 30, 0, 123456789, east)
	require.NoError(t, s.CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("sealed"), Created: created}))
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
	require.ErrorIs(t, s.ReplaceRecoveryCodes(ctx, u.ID+1000, nil), restauth.ErrNotFound)
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{h("a"), h("b"), h("c")}))
	require.NoError(t, s.ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{h("d"), h("e"), h("f")}))
	codes, err := s.RecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, codes, 3)
	for i, want := range []string{"d", "e", "f"} {
		assert.Equal(t, h(want), codes[i].Hash, "codes keep the order given")
		assert.Equal(t, u.ID, codes[i].UserID)
		assert.True(t, codes[i].Used.IsZero())
	}
	require.ErrorIs(t, s.UseRecoveryCode(ctx, u.ID, h("a"), time.Now()), restauth.ErrNotFound, "replaced")
	at := time.Date(2025, 3, 2, 0, 0, 0, 987654321, east)
	require.NoError(t, s.UseRecoveryCode(ctx, u.ID, h("e"), at))
	require.ErrorIs(t, s.UseRecoveryCode(ctx, u.ID, h("e"), at), restauth.ErrNotFound, "used")
	codes, err = s.RecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	assert.True(t, codes[0].Used.IsZero())
	assert.Equal(t, at.UTC().Truncate(time.Microsecond), codes[1].Used)
	assert.Equal(t, time.UTC, codes[1].Used.Location())
	var usedNull int
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{s.Schema(), "recovery_codes"}.Sanitize()+" WHERE used IS NULL").Scan(&usedNull))
	assert.Equal(t, 2, usedNull, "unused codes are NULL")

	require.NoError(t, s.DeleteTOTPDevice(ctx, u.ID))
	require.NoError(t, s.DeleteTOTPDevice(ctx, u.ID), "deleting nothing")
	require.NoError(t, s.DeleteTOTPDevice(ctx, u.ID+1000), "unknown user")
	_, err = s.TOTPDevice(ctx, u.ID)
	require.ErrorIs(t, err, restauth.ErrNotFound)
	codes, err = s.RecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, codes, "the codes went with the device")
}

// Of concurrent uses of one TOTP step, or one recovery code, on two instances, exactly one
// succeeds; of concurrent replacements of the recovery codes, exactly one set is left.
func TestMFASingleUseAcrossInstances(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	schema := newSchema(t)
	ctx := t.Context()
	var stores []*pgstore.Store
	for range 2 {
		s, err := pgstore.Open(ctx, dsn, pgstore.WithSchema(schema))
		require.NoError(t, err)
		t.Cleanup(s.Close)
		stores = append(stores, s)
	}
	u := &restauth.User{Username: "race"}
	require.NoError(t, stores[0].CreateUser(ctx, u, nil))
	require.NoError(t, stores[0].CreateTOTPDevice(ctx, &restauth.TOTPDevice{UserID: u.ID, SealedSecret: []byte("s")}))
	code := sha256.Sum256([]byte("code"))
	require.NoError(t, stores[0].ReplaceRecoveryCodes(ctx, u.ID, [][32]byte{code}))

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

	const sets, perSet = 10, 5
	start = make(chan struct{})
	for i := range sets {
		hs := make([][32]byte, perSet)
		for j := range hs {
			hs[j] = sha256.Sum256(fmt.Appendf(nil, "set %d code %d", i, j))
		}
		wg.Go(func() {
			<-start
			assert.NoError(t, stores[i%2].ReplaceRecoveryCodes(ctx, u.ID, hs))
		})
	}
	close(start)
	wg.Wait()
	codes, err := stores[0].RecoveryCodes(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, perSet, len(codes), "one replacement's codes, not a mix")
}
