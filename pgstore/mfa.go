package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

// TOTPDevice implements restauth.Store.
func (s *Store) TOTPDevice(ctx context.Context, userID int64) (*restauth.TOTPDevice, error) {
	d := &restauth.TOTPDevice{UserID: userID}
	var created pgtype.Timestamptz
	err := s.reader().QueryRow(ctx, s.q.totpDevice, userID).Scan(&d.SealedSecret, &d.Confirmed, &created, &d.LastStep)
	if err != nil {
		return nil, storeErr(err, "TOTP device of user", userID)
	}
	d.Created = fromTS(created)
	return d, nil
}

// secret is SealedSecret as a parameter: never nil, which would be NULL.
func secret(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateTOTPDevice implements restauth.Store with one upsert: a new device is inserted, a
// pending one of the user replaced, and a confirmed one left alone (the DO UPDATE's WHERE,
// which PostgreSQL re-checks on a row a concurrent transaction has just changed, fails, so
// no row changes), which is reported as a *restauth.ConflictError with Field "totp". Even
// against a concurrent creation or confirmation on another instance, an active device is
// never overwritten. An unknown d.UserID matches restauth.ErrNotFound.
func (s *Store) CreateTOTPDevice(ctx context.Context, d *restauth.TOTPDevice) error {
	tag, err := s.writer().Exec(ctx, s.q.createTOTP, d.UserID, secret(d.SealedSecret), d.Confirmed, ts(d.Created), d.LastStep)
	if err != nil {
		return storeErr(err, "TOTP device of user", d.UserID)
	}
	if tag.RowsAffected() == 0 {
		return &restauth.ConflictError{Field: "totp"} // the user's device is confirmed
	}
	return nil
}

// UseTOTPStep implements restauth.Store with one statement: a conditional UPDATE (WHERE
// last_step < step, the sealed secret is unchanged and, for confirm, the device is
// pending), which PostgreSQL re-checks on the row a concurrent one has just changed, so
// that of concurrent calls with one step, on any number of instances, exactly one reports
// true, and a code checked against a secret replaced meanwhile is refused.
func (s *Store) UseTOTPStep(ctx context.Context, userID int64, sealedSecret []byte, step int64, confirm bool) (bool, error) {
	var used, exists bool
	if err := s.writer().QueryRow(ctx, s.q.useTOTPStep, userID, secret(sealedSecret), step, confirm).Scan(&used, &exists); err != nil {
		return false, storeErr(err, "TOTP device of user", userID)
	}
	if !used && !exists {
		return false, notFound("TOTP device of user", userID)
	}
	return used, nil
}

// DeleteTOTPDevice implements restauth.Store: the device and the recovery codes go in one
// transaction that holds the user's lock (see ReplaceRecoveryCodes). An unknown user has
// nothing to delete.
func (s *Store) DeleteTOTPDevice(ctx context.Context, userID int64) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q.lockUser, userID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, s.q.deleteMFA, userID)
		return err
	})
	return storeErr(err, "TOTP device of user", userID)
}

// RecoveryCodes implements restauth.Store.
func (s *Store) RecoveryCodes(ctx context.Context, userID int64) ([]restauth.RecoveryCode, error) {
	rows, err := s.reader().Query(ctx, s.q.recoveryCodes, userID)
	if err != nil {
		return nil, storeErr(err, "recovery codes of user", userID)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (restauth.RecoveryCode, error) {
		c := restauth.RecoveryCode{UserID: userID}
		var (
			hash []byte
			used pgtype.Timestamptz
		)
		if err := r.Scan(&c.ID, &hash, &used); err != nil {
			return c, err
		}
		if len(hash) != len(c.Hash) {
			return c, fmt.Errorf("recovery code %d: hash of %d bytes", c.ID, len(hash))
		}
		copy(c.Hash[:], hash)
		c.Used = fromTS(used)
		return c, nil
	})
	if err != nil {
		return nil, storeErr(err, "recovery codes of user", userID)
	}
	if cs == nil {
		cs = []restauth.RecoveryCode{}
	}
	return cs, nil
}

// ReplaceRecoveryCodes implements restauth.Store: in one transaction, it locks the user's
// row (an unknown user matches restauth.ErrNotFound), deletes the codes and inserts the
// new ones with one statement, their IDs in the order of hashes. The lock makes concurrent
// replacements (and DeleteTOTPDevice) wait for each other, so that the codes left are
// exactly those of the last one: without it, a replacement's DELETE would not see the
// codes that another, committing meanwhile, inserted.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][32]byte) error {
	hs := make([][]byte, len(hashes))
	for i := range hashes {
		hs[i] = hashes[i][:]
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, s.q.lockUser, userID).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.q.deleteRecoveryCodes, userID); err != nil {
			return err
		}
		if len(hs) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, s.q.insertRecoveryCodes, userID, hs)
		return err
	})
	return storeErr(err, "user", userID)
}

// UseRecoveryCode implements restauth.Store with one conditional UPDATE (WHERE used IS
// NULL), so that of concurrent uses of a code, on any number of instances, exactly one
// succeeds.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, hash [32]byte, at time.Time) error {
	tag, err := s.writer().Exec(ctx, s.q.useRecovery, userID, hash[:], ts(at))
	if err != nil {
		return storeErr(err, "recovery code of user", userID)
	}
	if tag.RowsAffected() == 0 {
		return notFound("unused recovery code of user", userID)
	}
	return nil
}
