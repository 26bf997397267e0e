package memstore

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/restauth/restauth"
)

func copyWebAuthn(c *restauth.WebAuthnCredential) *restauth.WebAuthnCredential {
	d := *c
	d.CredentialID = bytes.Clone(c.CredentialID)
	d.UserHandle = bytes.Clone(c.UserHandle)
	d.PublicKey = bytes.Clone(c.PublicKey)
	d.AAGUID = bytes.Clone(c.AAGUID)
	d.Transports = slices.Clone(c.Transports)
	return &d
}

func webAuthnOwner(c *restauth.WebAuthnCredential) int64 { return c.UserID }

// CreateWebAuthnCredential implements restauth.Store. A credential id any user holds is a
// *restauth.ConflictError with Field "webauthn"; an unknown c.UserID matches
// restauth.ErrNotFound.
func (s *Store) CreateWebAuthnCredential(ctx context.Context, c *restauth.WebAuthnCredential) error {
	return s.withUser(ctx, c.UserID, func(r *userRecord) error {
		if _, taken := s.byCredID[string(c.CredentialID)]; taken {
			return conflict("webauthn")
		}
		s.lastWebAuthnID++
		p := copyWebAuthn(c)
		p.ID = s.lastWebAuthnID
		s.keys[p.ID] = p
		s.byCredID[string(p.CredentialID)] = p
		r.keys = append(r.keys, p)
		c.ID = p.ID
		return nil
	})
}

// WebAuthnCredentials implements restauth.Store. An unknown user has no credentials.
func (s *Store) WebAuthnCredentials(ctx context.Context, userID int64) ([]restauth.WebAuthnCredential, error) {
	return listOfUser(ctx, s, userID, func(r *userRecord) []*restauth.WebAuthnCredential { return r.keys },
		func(c *restauth.WebAuthnCredential) restauth.WebAuthnCredential { return *copyWebAuthn(c) })
}

// WebAuthnCredentialByCredentialID implements restauth.Store.
func (s *Store) WebAuthnCredentialByCredentialID(ctx context.Context, credentialID []byte) (*restauth.WebAuthnCredential, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.rlock()
	defer s.runlock()
	c, ok := s.byCredID[string(credentialID)]
	if !ok {
		return nil, notFound("WebAuthn credential", "by credential id")
	}
	return copyWebAuthn(c), nil
}

// UseWebAuthnCredential implements restauth.Store.
func (s *Store) UseWebAuthnCredential(ctx context.Context, id int64, signCount uint32, flags uint8, at time.Time) (bool, error) {
	used := false
	err := withRow(ctx, s, s.keys, "WebAuthn credential", id, webAuthnOwner, func(c *restauth.WebAuthnCredential) error {
		if signCount <= c.SignCount && (signCount != 0 || c.SignCount != 0) {
			return nil
		}
		c.SignCount, c.Flags, c.LastUsed = signCount, flags, at
		used = true
		return nil
	})
	return used, err
}

// RenameWebAuthnCredential implements restauth.Store.
func (s *Store) RenameWebAuthnCredential(ctx context.Context, id int64, name string) error {
	return withRow(ctx, s, s.keys, "WebAuthn credential", id, webAuthnOwner, func(c *restauth.WebAuthnCredential) error {
		c.Name = name
		return nil
	})
}

// DeleteWebAuthnCredential implements restauth.Store.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, id int64) error {
	return withRow(ctx, s, s.keys, "WebAuthn credential", id, webAuthnOwner, func(c *restauth.WebAuthnCredential) error {
		r := s.users[c.UserID]
		r.keys = slices.DeleteFunc(r.keys, func(k *restauth.WebAuthnCredential) bool { return k == c })
		delete(s.keys, id)
		delete(s.byCredID, string(c.CredentialID))
		return nil
	})
}
