package memstore

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/restauth/restauth"
)

// TOTPDevice implements restauth.Store.
func (s *Store) TOTPDevice(ctx context.Context, userID int64) (*restauth.TOTPDevice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.rlock()
	defer s.runlock()
	r, ok := s.users[userID]
	if !ok || r.totp == nil {
		return nil, notFound("TOTP device of user", userID)
	}
	return copyDevice(r.totp), nil
}

func copyDevice(d *restauth.TOTPDevice) *restauth.TOTPDevice {
	c := *d
	c.SealedSecret = bytes.Clone(d.SealedSecret)
	return &c
}

// CreateTOTPDevice implements restauth.Store.
func (s *Store) CreateTOTPDevice(ctx context.Context, d *restauth.TOTPDevice) error {
	return s.withUser(ctx, d.UserID, func(r *userRecord) error {
		if r.totp != nil && r.totp.Confirmed {
			return conflict("totp")
		}
		r.totp = copyDevice(d)
		return nil
	})
}

// UseTOTPStep implements restauth.Store.
func (s *Store) UseTOTPStep(ctx context.Context, userID int64, sealedSecret []byte, step int64, confirm bool) (bool, error) {
	used := false
	err := s.withUser(ctx, userID, func(r *userRecord) error {
		if r.totp == nil {
			return notFound("TOTP device of user", userID)
		}
		if step <= r.totp.LastStep || !bytes.Equal(r.totp.SealedSecret, sealedSecret) || (confirm && r.totp.Confirmed) {
			return nil
		}
		r.totp.LastStep = step
		r.totp.Confirmed = r.totp.Confirmed || confirm
		used = true
		return nil
	})
	return used, err
}

// DeleteTOTPDevice implements restauth.Store. An unknown user has nothing to delete.
func (s *Store) DeleteTOTPDevice(ctx context.Context, userID int64) error {
	err := s.withUser(ctx, userID, func(r *userRecord) error {
		r.totp, r.recovery = nil, nil
		return nil
	})
	if errors.Is(err, restauth.ErrNotFound) {
		return nil
	}
	return err
}

// RecoveryCodes implements restauth.Store. An unknown user has no codes.
func (s *Store) RecoveryCodes(ctx context.Context, userID int64) ([]restauth.RecoveryCode, error) {
	return listOfUser(ctx, s, userID, func(r *userRecord) []*restauth.RecoveryCode { return r.recovery }, deref)
}

// ReplaceRecoveryCodes implements restauth.Store.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes [][32]byte) error {
	return s.withUser(ctx, userID, func(r *userRecord) error {
		r.recovery = make([]*restauth.RecoveryCode, len(hashes))
		for i, h := range hashes {
			s.lastRecoveryID++
			r.recovery[i] = &restauth.RecoveryCode{ID: s.lastRecoveryID, UserID: userID, Hash: h}
		}
		return nil
	})
}

// UseRecoveryCode implements restauth.Store.
func (s *Store) UseRecoveryCode(ctx context.Context, userID int64, hash [32]byte, at time.Time) error {
	return s.withUser(ctx, userID, func(r *userRecord) error {
		i := slices.IndexFunc(r.recovery, func(c *restauth.RecoveryCode) bool { return c.Hash == hash && c.Used.IsZero() })
		if i < 0 {
			return notFound("unused recovery code of user", userID)
		}
		r.recovery[i].Used = at
		return nil
	})
}
