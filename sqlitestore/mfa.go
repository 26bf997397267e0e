package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/restauth/restauth"
)

// TOTPDevice implements restauth.Store.
func (s *Store) TOTPDevice(ctx context.Context, userID int64) (*restauth.TOTPDevice, error) {
	d := &restauth.TOTPDevice{UserID: userID}
	var created sql.NullInt64
	err := s.r().QueryRowContext(ctx, `SELECT sealed_secret, confirmed, created, last_step FROM totp_devices WHERE user_id = ?`, userID).
		Scan(&d.SealedSecret, &d.Confirmed, &created, &d.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("TOTP device of user", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: TOTP device of user %d: %w", userID, err)
	}
	d.Created = fromMicros(created)
	return d, nil
}

// secret is SealedSecret as a parameter: never nil, which would bind NULL.
func secret(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateTOTPDevice implements restauth.Store with one upsert: a new device is inserted, a
// pending one of the user replaced, and a confirmed one left alone (the DO UPDATE's WHERE
// fails, so no row changes), which is reported as a *restauth.ConflictError with Field
// "totp". The statement holds the write lock, so a concurrent confirmation of the pending
// device (UseTOTPStep) comes wholly before or after it. An unknown d.UserID breaks the
// foreign key and matches restauth.ErrNotFound.
func (s *Store) CreateTOTPDevice(ctx context.Context, d *restauth.TOTPDevice) error {
	res, err := s.w().ExecContext(ctx, `INSERT INTO totp_devices (user_id, sealed_secret, confirmed, created, last_step) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, confirmed = excluded.confirmed,
	created = excluded.created, last_step = excluded.last_step
WHERE totp_devices.confirmed = false`,
		d.UserID, secret(d.SealedSecret), d.Confirmed, micros(d.Created), d.LastStep)
	if err != nil {
		return writeErr(err, "create TOTP device", d.UserID)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: create TOTP device of user %d: %w", d.UserID, err)
	}
	if n == 0 {
		return conflict("totp") // the user's device is confirmed
	}
	return nil
}

// UseTOTPStep implements restauth.Store with one conditional UPDATE (a step above
// last_step, the same sealed secret, and for confirm a pending device), which accepts a
// step once, and confirms a device once, however many connections, stores or processes
// try it at the same time.
func (s *Store) UseTOTPStep(ctx context.Context, userID int64, sealedSecret []byte, step int64, confirm bool) (bool, error) {
	return s.conditionalUpdate(ctx, "TOTP device of user", userID,
		`UPDATE totp_devices SET last_step = ?, confirmed = confirmed OR ?
WHERE user_id = ? AND last_step < ? AND sealed_secret = ? AND NOT (? AND confirmed)`,
		[]any{step, confirm, userID, step, secret(sealedSecret), confirm},
		`SELECT 1 FROM totp_devices WHERE user_id = ?`)
}

// DeleteTOTPDevice implements restauth.Store: the device and the recovery codes go in one
// transaction.
func (s *Store) DeleteTOTPDevice(ctx context.Context, userID int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_devices WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("sqlitestore: delete TOTP device of user %d: %w", userID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("sqlitestore: delete TOTP device of user %d: %w", userID, err)
		}
		return nil
	})
}

// RecoveryCodes implements restauth.Store.
func (s *Store) RecoveryCodes(ctx context.Context, userID int64) ([]restauth.RecoveryCode, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, hash, used FROM recovery_codes WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: recovery codes: %w", err)
	}
	defer rows.Close()
	out := []restauth.RecoveryCode{}
	for rows.Next() {
		c := restauth.RecoveryCode{UserID: userID}
		var hash sql.RawBytes
		var used sql.NullInt64
		if err := rows.Scan(&c.ID, &hash, &used); err != nil {
			return nil, fmt.Errorf("sqlitestore: recovery codes: %w", err)
		}
		if len(hash) != len(c.Hash) {
			return nil, fmt.Errorf("sqlitestore: recovery code %d: hash of %d bytes", c.ID, len(hash))
		}
		copy(c.Hash[:], hash)
		c.Used = fromMicros(used)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: recovery codes: %w", err)
	}
	return out, nil
}

// ReplaceRecoveryCodes implements restauth.Store: the old codes are deleted and the new
// ones inserted, in the order given, in one transaction. An unknown user matches
// restauth.ErrNotFound, even with no hashes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][32]byte) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, userID).Scan(&exists); err != nil {
			return fmt.Errorf("sqlitestore: replace recovery codes: %w", err)
		}
		if !exists {
			return notFound("user", userID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("sqlitestore: replace recovery codes: %w", err)
		}
		if len(hashes) == 0 {
			return nil
		}
		var q strings.Builder
		q.WriteString(`INSERT INTO recovery_codes (user_id, hash) VALUES `)
		args := make([]any, 0, 2*len(hashes))
		for i := range hashes {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?)")
			args = append(args, userID, hashes[i][:])
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return writeErr(err, "replace recovery codes", userID)
		}
		return nil
	})
}

// UseRecoveryCode implements restauth.Store with one conditional UPDATE of the user's
// first unused code of that hash, so that a code is accepted once.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, hash [32]byte, at time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE recovery_codes SET used = ?
WHERE id = (SELECT id FROM recovery_codes WHERE user_id = ? AND hash = ? AND used IS NULL ORDER BY id LIMIT 1)
	AND used IS NULL`,
		micros(at), userID, hash[:])
	if err != nil {
		return fmt.Errorf("sqlitestore: use recovery code of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: use recovery code of user %d: %w", userID, err)
	}
	if n == 0 {
		return notFound("unused recovery code of user", userID)
	}
	return nil
}
