package restauth

import (
	"context"
	"errors"
	"strconv"
)

// This file holds how WebAuthn credentials count among a user's second factors, beside
// TOTP: the hooks the MFA rules of mfa.go, login_pending.go, recovery.go and
// social_login.go call, so that a user whose only second factor is a key is gated (and
// can finish a login) like a user with TOTP.

// webauthnCount is how many WebAuthn credentials of the user count as a second factor:
// none while Config.WebAuthn is off (keys a host turned off must not lock their users out).
func (s *Service) webauthnCount(ctx context.Context, userID int64) (int, error) {
	if !s.cfg.WebAuthn.Enabled {
		return 0, nil
	}
	keys, err := s.store.WebAuthnCredentials(ctx, userID)
	return len(keys), err
}

// secondFactors returns the user's active TOTP device (nil: none) and whether they have
// any second factor at all (TOTP or a WebAuthn credential).
func (s *Service) secondFactors(ctx context.Context, userID int64) (*TOTPDevice, bool, error) {
	d, err := s.activeTOTP(ctx, userID)
	if err != nil {
		return nil, false, err
	}
	if d != nil {
		return d, true, nil
	}
	n, err := s.webauthnCount(ctx, userID)
	return nil, n > 0, err
}

// keepRecoveryCodes runs remove (which deletes the TOTP device, and with it, by the Store
// contract, every recovery code) and then gives the user back their unused codes when a
// WebAuthn credential still protects the account: recovery codes belong to the account's
// MFA, not to one authenticator (allauth deletes them with the last one).
func (s *Service) keepRecoveryCodes(ctx context.Context, userID int64, remove func() error) error {
	n, err := s.webauthnCount(ctx, userID)
	if err != nil {
		return err
	}
	var unused [][32]byte
	if n > 0 {
		codes, err := s.store.RecoveryCodes(ctx, userID)
		if err != nil {
			return err
		}
		for _, c := range codes {
			if c.Used.IsZero() {
				unused = append(unused, c.Hash)
			}
		}
	}
	if err := remove(); err != nil {
		return err
	}
	if len(unused) == 0 {
		return nil
	}
	return s.store.ReplaceRecoveryCodes(ctx, userID, unused)
}

// deleteAllWebAuthn removes every WebAuthn credential of the user (ResetMFA), reporting
// whether there was one.
func (s *Service) deleteAllWebAuthn(ctx context.Context, u *User) (bool, error) {
	keys, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if err := s.store.DeleteWebAuthnCredential(ctx, k.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
		s.audit(ctx, u, AuditEvent{Kind: AuditMFADeactivated, Method: AuditMethodWebAuthn, Detail: "method=webauthn id=" + strconv.FormatInt(k.ID, 10)})
	}
	return len(keys) > 0, nil
}

// Authenticators is a user's MFA status: what allauth lists at account/authenticators.
type Authenticators struct {
	// TOTP is set when the user has an active TOTP device.
	TOTP bool
	// WebAuthn are the user's WebAuthn credentials (none while Config.WebAuthn is off).
	WebAuthn []WebAuthnCredential
	// RecoveryCodes counts the user's recovery codes.
	RecoveryCodes RecoveryCodesStatus
}

// Enabled reports whether the user has a second factor (TOTP or a WebAuthn credential);
// recovery codes alone are none.
func (a *Authenticators) Enabled() bool { return a.TOTP || len(a.WebAuthn) > 0 }

// Authenticators reports the user's authenticators: TOTP, WebAuthn credentials and
// recovery codes. Unlike TOTPStatus it starts no pending TOTP secret.
func (s *Service) Authenticators(ctx context.Context, userID int64) (*Authenticators, error) {
	d, err := s.activeTOTP(ctx, userID)
	if err != nil {
		return nil, err
	}
	keys, err := s.ListWebAuthnCredentials(ctx, userID)
	if err != nil {
		return nil, err
	}
	codes, err := s.RecoveryCodesStatus(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &Authenticators{TOTP: d != nil, WebAuthn: keys, RecoveryCodes: codes}, nil
}
