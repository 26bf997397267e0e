package memstore

import (
	"context"
	"slices"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/fold"
)

// AddEmailAddress implements restauth.Store. It returns an error matching
// restauth.ErrNotFound when e.UserID names no user.
func (s *Store) AddEmailAddress(ctx context.Context, e *restauth.EmailAddress) error {
	return s.withUser(ctx, e.UserID, func(r *userRecord) error {
		if r.holds(e.Email) {
			return conflict("user_email")
		}
		if e.Verified {
			if _, taken := s.verified[fold.String(e.Email)]; taken {
				return conflict("email")
			}
		}
		p := s.insertEmail(r, *e)
		if p.Primary {
			s.makePrimary(r, p)
		}
		e.ID = p.ID
		return nil
	})
}

// VerifyEmailAddress implements restauth.Store. Verifying a verified address is not an error.
func (s *Store) VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (*restauth.EmailAddress, error) {
	var out *restauth.EmailAddress
	err := withRow(ctx, s, s.emails, "email address", id, emailOwner, func(e *restauth.EmailAddress) error {
		k := fold.String(e.Email)
		// The owner of a verified address is the only holder of its row, so any other row
		// in the index belongs to another user.
		if o, taken := s.verified[k]; taken && o != e {
			return conflict("email")
		}
		e.Verified = true
		s.verified[k] = e
		r := s.users[e.UserID]
		if makePrimaryIfNone && !slices.ContainsFunc(r.emails, func(o *restauth.EmailAddress) bool { return o.Primary }) {
			s.makePrimary(r, e)
		}
		out = clone(e)
		return nil
	})
	return out, err
}

// SetPrimaryEmailAddress implements restauth.Store.
func (s *Store) SetPrimaryEmailAddress(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	var out *restauth.EmailAddress
	err := withRow(ctx, s, s.emails, "email address", id, emailOwner, func(e *restauth.EmailAddress) error {
		s.makePrimary(s.users[e.UserID], e)
		out = clone(e)
		return nil
	})
	return out, err
}

// DeleteEmailAddress implements restauth.Store.
func (s *Store) DeleteEmailAddress(ctx context.Context, id int64) error {
	return withRow(ctx, s, s.emails, "email address", id, emailOwner, func(e *restauth.EmailAddress) error {
		r := s.users[e.UserID]
		s.dropEmail(e)
		r.emails = slices.DeleteFunc(r.emails, func(o *restauth.EmailAddress) bool { return o == e })
		if e.Primary {
			s.setUserEmail(r, "")
		}
		return nil
	})
}
