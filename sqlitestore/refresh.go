package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/restauth/restauth"
)

// CreateRefreshToken implements restauth.Store: it deletes the user's tokens that expired
// before t.Created and inserts t, in one transaction. An unknown t.UserID breaks the
// foreign key and matches restauth.ErrNotFound.
func (s *Store) CreateRefreshToken(ctx context.Context, t *restauth.RefreshToken) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND expires < ?`,
			t.UserID, t.Created.UnixMicro()); err != nil {
			return fmt.Errorf("sqlitestore: create refresh token: %w", err)
		}
		return insertRefresh(ctx, tx, t)
	})
}

// insertRefresh inserts t and writes its ID back.
func insertRefresh(ctx context.Context, tx *sql.Tx, t *restauth.RefreshToken) error {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO refresh_tokens (user_id, hash, family, created, expires) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		t.UserID, t.Hash[:], t.Family, t.Created.UnixMicro(), t.Expires.UnixMicro()).Scan(&id)
	if err != nil {
		return writeErr(err, "create refresh token", t.UserID)
	}
	t.ID = id
	return nil
}

// ReplaceRefreshToken implements restauth.Store: the DELETE of the old token and the
// INSERT of the next run in one IMMEDIATE transaction, which holds the database's write
// lock, so of two exchanges of one token the second finds no row to delete.
func (s *Store) ReplaceRefreshToken(ctx context.Context, old [32]byte, next *restauth.RefreshToken) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND hash = ?`, next.UserID, old[:])
		if err != nil {
			return fmt.Errorf("sqlitestore: replace refresh token: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return fmt.Errorf("sqlitestore: replace refresh token: %w", err)
			}
			return fmt.Errorf("sqlitestore: refresh token: %w", restauth.ErrNotFound)
		}
		return insertRefresh(ctx, tx, next)
	})
}

// DeleteRefreshTokens implements restauth.Store.
func (s *Store) DeleteRefreshTokens(ctx context.Context, userID int64, family string) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM refresh_tokens WHERE user_id = ? AND (? = '' OR family = ?)`, userID, family, family)
	if err != nil {
		return fmt.Errorf("sqlitestore: delete refresh tokens of user %d: %w", userID, err)
	}
	return nil
}
