package memstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/restauth/restauth"
)

// CreateToken implements restauth.Store. It returns an error matching restauth.ErrNotFound
// when t.UserID names no user.
func (s *Store) CreateToken(ctx context.Context, t *restauth.APIToken) error {
	return s.withUser(ctx, t.UserID, func(r *userRecord) error {
		if _, taken := s.byHash[t.KeyHash]; taken {
			return conflict("token")
		}
		s.lastTokenID++
		p := copyToken(t)
		p.ID = s.lastTokenID
		s.tokens[p.ID] = p
		s.byHash[p.KeyHash] = p
		r.tokens = append(r.tokens, p)
		t.ID = p.ID
		return nil
	})
}

// errTokenNotFound is preallocated so that a lookup of an unknown key, which anyone can
// provoke by sending made-up tokens, allocates nothing.
var errTokenNotFound = fmt.Errorf("memstore: token: %w", restauth.ErrNotFound)

// TokenByHash implements restauth.Store. It takes only the read lock and allocates only
// the returned copy.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	// ctx.Err is an atomic load at most; cheap enough to keep even here.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.rlock()
	t, ok := s.byHash[hash]
	if !ok {
		s.runlock()
		return nil, errTokenNotFound
	}
	c := new(restauth.APIToken)
	*c = *t
	// Authentication never reads the sealed key (restauth.TokenStore allows leaving it
	// out), and sharing the stored slice would let a caller change the stored record.
	c.SealedKey = nil
	s.runlock()
	return c, nil
}

// copyToken copies a token with its own SealedKey, so that neither the caller's record nor
// the returned one shares bytes with the stored one.
func copyToken(t *restauth.APIToken) *restauth.APIToken {
	c := *t
	c.SealedKey = bytes.Clone(t.SealedKey)
	return &c
}

// TokenByID implements restauth.Store.
func (s *Store) TokenByID(ctx context.Context, id int64) (*restauth.APIToken, error) {
	return lookupByID(ctx, s, s.tokens, "token", id, copyToken)
}

// Tokens implements restauth.Store. An unknown user has no tokens.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]restauth.APIToken, error) {
	return listOfUser(ctx, s, userID, func(r *userRecord) []*restauth.APIToken { return r.tokens },
		func(t *restauth.APIToken) restauth.APIToken { return *copyToken(t) })
}

// RevokeToken implements restauth.Store.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return withRow(ctx, s, s.tokens, "token", id, tokenOwner, func(t *restauth.APIToken) error {
		t.Revoked = true
		return nil
	})
}

// TouchToken implements restauth.Store.
func (s *Store) TouchToken(ctx context.Context, id int64, day time.Time) error {
	return withRow(ctx, s, s.tokens, "token", id, tokenOwner, func(t *restauth.APIToken) error {
		t.LastSeen = day
		return nil
	})
}
