package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/restauth/restauth"
)

// CreateRefreshToken implements restauth.Store; it also drops the user's tokens that
// expired before t.Created.
func (s *Store) CreateRefreshToken(ctx context.Context, t *restauth.RefreshToken) error {
	return s.withUser(ctx, t.UserID, func(r *userRecord) error {
		r.refresh = slices.DeleteFunc(r.refresh, func(old *restauth.RefreshToken) bool {
			return old.Expires.Before(t.Created)
		})
		s.addRefresh(r, t)
		return nil
	})
}

// addRefresh appends a copy of t to the user's tokens with a new ID, written back to t.
func (s *Store) addRefresh(r *userRecord, t *restauth.RefreshToken) {
	s.lastRefreshID++
	t.ID = s.lastRefreshID
	r.refresh = append(r.refresh, clone(t))
}

// ReplaceRefreshToken implements restauth.Store.
func (s *Store) ReplaceRefreshToken(ctx context.Context, old [32]byte, next *restauth.RefreshToken) error {
	return s.withUser(ctx, next.UserID, func(r *userRecord) error {
		i := slices.IndexFunc(r.refresh, func(t *restauth.RefreshToken) bool { return t.Hash == old })
		if i < 0 {
			return fmt.Errorf("memstore: refresh token: %w", restauth.ErrNotFound)
		}
		r.refresh = slices.Delete(r.refresh, i, i+1)
		s.addRefresh(r, next)
		return nil
	})
}

// DeleteRefreshTokens implements restauth.Store.
func (s *Store) DeleteRefreshTokens(ctx context.Context, userID int64, family string) error {
	err := s.withUser(ctx, userID, func(r *userRecord) error {
		r.refresh = slices.DeleteFunc(r.refresh, func(t *restauth.RefreshToken) bool {
			return family == "" || t.Family == family
		})
		return nil
	})
	if errors.Is(err, restauth.ErrNotFound) {
		return nil // an unknown user has no tokens
	}
	return err
}
