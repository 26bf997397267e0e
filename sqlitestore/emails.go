package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/restauth/restauth"
)

const emailCols = `id, user_id, email, verified, is_primary`

func scanEmail(sc scanner, e *restauth.EmailAddress) error {
	return sc.Scan(&e.ID, &e.UserID, &e.Email, &e.Verified, &e.Primary)
}

// EmailAddresses implements restauth.Store.
func (s *Store) EmailAddresses(ctx context.Context, userID int64) ([]restauth.EmailAddress, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+emailCols+` FROM email_addresses WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: e-mail addresses: %w", err)
	}
	defer rows.Close()
	out := []restauth.EmailAddress{}
	for rows.Next() {
		var e restauth.EmailAddress
		if err := scanEmail(rows, &e); err != nil {
			return nil, fmt.Errorf("sqlitestore: e-mail addresses: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: e-mail addresses: %w", err)
	}
	return out, nil
}

// EmailAddressByID implements restauth.Store.
func (s *Store) EmailAddressByID(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	e := new(restauth.EmailAddress)
	err := scanEmail(s.r().QueryRowContext(ctx, `SELECT `+emailCols+` FROM email_addresses WHERE id = ?`, id), e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("email address", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: email address %d: %w", id, err)
	}
	return e, nil
}

// AddEmailAddress implements restauth.Store. An unknown e.UserID matches
// restauth.ErrNotFound.
func (s *Store) AddEmailAddress(ctx context.Context, e *restauth.EmailAddress) error {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if e.Primary {
			if _, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 0 WHERE user_id = ? AND is_primary`, e.UserID); err != nil {
				return fmt.Errorf("sqlitestore: add e-mail address: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO email_addresses (user_id, email, verified, is_primary) VALUES (?, ?, ?, ?)`,
			e.UserID, e.Email, e.Verified, e.Primary)
		if err != nil {
			err = writeErr(err, "add e-mail address", e.UserID)
			if ce := (*restauth.ConflictError)(nil); errors.As(err, &ce) && ce.Field == "email" {
				// Both the verified and the per-user index may have refused the row; the
				// user's own duplicate is the more specific answer.
				var held bool
				if herr := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM email_addresses WHERE user_id = ? AND lower(email) = lower(?))`,
					e.UserID, e.Email).Scan(&held); herr != nil {
					return fmt.Errorf("sqlitestore: add e-mail address: %w", herr)
				}
				if held {
					return conflict("user_email")
				}
			}
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlitestore: add e-mail address: %w", err)
		}
		if e.Primary {
			return setUserEmail(ctx, tx, e.UserID, e.Email)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

// setUserEmail sets User.Email, in the transaction that changed the primary address.
func setUserEmail(ctx context.Context, tx *sql.Tx, userID int64, email string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ? WHERE id = ?`, email, userID); err != nil {
		return fmt.Errorf("sqlitestore: set user e-mail: %w", err)
	}
	return nil
}

// VerifyEmailAddress implements restauth.Store.
func (s *Store) VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (*restauth.EmailAddress, error) {
	e := new(restauth.EmailAddress)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := scanEmail(tx.QueryRowContext(ctx, `UPDATE email_addresses SET verified = 1 WHERE id = ? RETURNING `+emailCols, id), e)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("email address", id)
		}
		if err != nil {
			return writeErr(err, "verify e-mail address", e.UserID)
		}
		if !makePrimaryIfNone || e.Primary {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 1 WHERE id = ?
	AND NOT EXISTS (SELECT 1 FROM email_addresses WHERE user_id = ? AND is_primary)`, id, e.UserID)
		if err != nil {
			return fmt.Errorf("sqlitestore: verify e-mail address: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlitestore: verify e-mail address: %w", err)
		} else if n == 0 {
			return nil
		}
		e.Primary = true
		return setUserEmail(ctx, tx, e.UserID, e.Email)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// SetPrimaryEmailAddress implements restauth.Store.
func (s *Store) SetPrimaryEmailAddress(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	e := new(restauth.EmailAddress)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := scanEmail(tx.QueryRowContext(ctx, `SELECT `+emailCols+` FROM email_addresses WHERE id = ?`, id), e)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("email address", id)
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: set primary e-mail address: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 0 WHERE user_id = ? AND is_primary AND id <> ?`, e.UserID, id); err != nil {
			return fmt.Errorf("sqlitestore: set primary e-mail address: %w", err)
		}
		if !e.Primary {
			if _, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 1 WHERE id = ?`, id); err != nil {
				return fmt.Errorf("sqlitestore: set primary e-mail address: %w", err)
			}
			e.Primary = true
		}
		return setUserEmail(ctx, tx, e.UserID, e.Email)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteEmailAddress implements restauth.Store.
func (s *Store) DeleteEmailAddress(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var userID int64
		var primary bool
		err := tx.QueryRowContext(ctx, `DELETE FROM email_addresses WHERE id = ? RETURNING user_id, is_primary`, id).Scan(&userID, &primary)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("email address", id)
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: delete e-mail address: %w", err)
		}
		if primary {
			return setUserEmail(ctx, tx, userID, "")
		}
		return nil
	})
}
