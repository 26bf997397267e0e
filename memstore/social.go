package memstore

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/restauth/restauth"
)

// CreateSocialAccount implements restauth.Store. A taken (provider, uid) is a
// *restauth.ConflictError with Field "social"; an unknown a.UserID matches
// restauth.ErrNotFound.
func (s *Store) CreateSocialAccount(ctx context.Context, a *restauth.SocialAccount) error {
	return s.withUser(ctx, a.UserID, func(r *userRecord) error {
		k := socialKey{a.Provider, a.UID}
		if _, taken := s.byUID[k]; taken {
			return conflict("social")
		}
		s.lastSocialID++
		c := copySocial(a)
		c.ID = s.lastSocialID
		p := &c
		s.social[p.ID] = p
		s.byUID[k] = p
		r.social = append(r.social, p)
		a.ID = p.ID
		return nil
	})
}

// SocialAccountByUID implements restauth.Store.
func (s *Store) SocialAccountByUID(ctx context.Context, provider, uid string) (*restauth.SocialAccount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.rlock()
	defer s.runlock()
	a, ok := s.byUID[socialKey{provider, uid}]
	if !ok {
		return nil, notFound("social account", provider+"/"+uid)
	}
	c := copySocial(a)
	return &c, nil
}

// SocialAccounts implements restauth.Store. An unknown user has no social accounts.
func (s *Store) SocialAccounts(ctx context.Context, userID int64) ([]restauth.SocialAccount, error) {
	return listOfUser(ctx, s, userID, func(r *userRecord) []*restauth.SocialAccount { return r.social }, copySocial)
}

// UpdateSocialAccountLogin implements restauth.Store.
func (s *Store) UpdateSocialAccountLogin(ctx context.Context, id int64, at time.Time, extra []byte) error {
	// Copy outside the lock: the caller keeps its slice and may change it later.
	extra = bytes.Clone(extra)
	return withRow(ctx, s, s.social, "social account", id, socialOwner, func(a *restauth.SocialAccount) error {
		a.LastLogin, a.ExtraData = at, extra
		return nil
	})
}

// DeleteSocialAccount implements restauth.Store.
func (s *Store) DeleteSocialAccount(ctx context.Context, id int64) error {
	return withRow(ctx, s, s.social, "social account", id, socialOwner, func(a *restauth.SocialAccount) error {
		delete(s.social, id)
		delete(s.byUID, socialKey{a.Provider, a.UID})
		if r, ok := s.users[a.UserID]; ok {
			r.social = slices.DeleteFunc(r.social, func(o *restauth.SocialAccount) bool { return o == a })
		}
		return nil
	})
}
