package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/restauth/restauth"
)

// CreateRefreshToken implements restauth.Store with one statement, which also deletes the
// user's tokens that expired before t.Created. An unknown t.UserID breaks the foreign key
// and matches restauth.ErrNotFound.
func (s *Store) CreateRefreshToken(ctx context.Context, t *restauth.RefreshToken) error {
	var id int64
	err := s.writer().QueryRow(ctx, s.q.createRefresh, t.UserID, t.Hash[:], t.Family, ts(t.Created), ts(t.Expires)).Scan(&id)
	if err != nil {
		return storeErr(err, "refresh token of user", t.UserID)
	}
	t.ID = id
	return nil
}

// ReplaceRefreshToken implements restauth.Store with one statement that inserts next only
// when it deleted the old token.
func (s *Store) ReplaceRefreshToken(ctx context.Context, old [32]byte, next *restauth.RefreshToken) error {
	var id int64
	err := s.writer().QueryRow(ctx, s.q.replaceRefresh, next.UserID, next.Hash[:], next.Family, ts(next.Created), ts(next.Expires), old[:]).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("refresh token of user", next.UserID)
	}
	if err != nil {
		return storeErr(err, "refresh token of user", next.UserID)
	}
	next.ID = id
	return nil
}

// DeleteRefreshTokens implements restauth.Store.
func (s *Store) DeleteRefreshTokens(ctx context.Context, userID int64, family string) error {
	_, err := s.writer().Exec(ctx, s.q.deleteRefresh, userID, family)
	return storeErr(err, "refresh tokens of user", userID)
}
