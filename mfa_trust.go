package restauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/djsign"
)

// This file holds "trust this browser" (allauth's MFA_TRUST_ENABLED): after a login that
// passed the second factor, the client may get a trust token, which a dialect keeps in a
// cookie (allauth's is MFA_TRUST_COOKIE_AGE, 14 days) and hands back at the next login of
// that user (LoginRequest.MFATrust, LoginCodeConfirm.MFATrust), which then skips the
// second factor. The token is Django-signed under Config.Secret with its own salt,
// expires, names its user and carries a fingerprint of the user's authenticators and
// password (mfaFingerprint), so that re-enrolling TOTP, adding or removing a key, or a new
// password voids every trust token.

// DefaultMFATrustCookieAge is MFAConfig.TrustCookieAge's default, allauth's
// MFA_TRUST_COOKIE_AGE.
const DefaultMFATrustCookieAge = 14 * 24 * time.Hour

// mfaTrustSalt separates trust tokens from every other value the Service signs.
const mfaTrustSalt = "restauth.mfa-trust"

// mfaTrust is the method a login that skipped its second factor by trust records.
const mfaTrust mfaMethod = "trust"

// IssueMFATrust mints a trust token for u, valid Config.MFA.TrustCookieAge (the expiry is
// returned, for the cookie), and emits AuditMFATrusted. Call it only right after u passed
// their second factor (CompleteLogin, or Login with an MFA code) and asked to trust the
// client. Errors: ErrMFATrustDisabled without Config.MFA.Enabled and TrustEnabled; an
// error matching ErrNotFound when u has no active authenticator (nothing to trust).
func (s *Service) IssueMFATrust(ctx context.Context, u *User) (_ string, _ time.Time, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "IssueMFATrust")
	defer opSpan.end(&opErr)
	if !s.cfg.MFA.Enabled || !s.cfg.MFA.TrustEnabled {
		return "", time.Time{}, ErrMFATrustDisabled
	}
	fp, err := s.mfaFingerprint(ctx, u)
	if err != nil {
		return "", time.Time{}, err
	}
	if fp == "" {
		return "", time.Time{}, fmt.Errorf("restauth: user %d has no active authenticator to trust: %w", u.ID, ErrNotFound)
	}
	now := s.now()
	token := djsign.Sign(s.cfg.Secret, mfaTrustSalt, strconv.FormatInt(u.ID, 10)+":"+fp, now)
	s.audit(ctx, u, AuditEvent{Kind: AuditMFATrusted})
	return token, now.Add(s.cfg.MFA.TrustCookieAge), nil
}

// MFATrusted reports whether token is a valid trust token of u: signed by this Service,
// not older than Config.MFA.TrustCookieAge, made for u and for the authenticators and
// password u has now. It is false when trust is off, and for an empty or malformed
// token; only a store failure is an error.
func (s *Service) MFATrusted(ctx context.Context, u *User, token string) (bool, error) {
	if !s.cfg.MFA.Enabled || !s.cfg.MFA.TrustEnabled || token == "" || len(token) > 512 || u == nil {
		return false, nil
	}
	value, err := djsign.Unsign(s.cfg.Secret, mfaTrustSalt, token, s.cfg.MFA.TrustCookieAge, s.now())
	if err != nil {
		return false, nil
	}
	id, fp, ok := strings.Cut(value, ":")
	if !ok || id != strconv.FormatInt(u.ID, 10) {
		return false, nil
	}
	current, err := s.mfaFingerprint(ctx, u)
	if err != nil {
		return false, err
	}
	return current != "" && hmac.Equal([]byte(fp), []byte(current)), nil
}

// trusted is MFATrusted for the login gates: a store failure counts as not trusted (the
// second factor is then asked for, which is safe), and is logged.
func (s *Service) trusted(ctx context.Context, u *User, token string) bool {
	ok, err := s.MFATrusted(ctx, u, token)
	if err != nil {
		s.log.WarnContext(ctx, "restauth: could not check an MFA trust token", "user_id", u.ID, "error", err)
	}
	return ok
}

// mfaFingerprint is a keyed digest of u's security setup, "" when u has no authenticator:
// the active TOTP device (its sealed secret and enrolment time, which a new enrolment
// changes), every WebAuthn credential (its id, so that a key added or removed changes
// it) and the password (through the session auth hash, so that a new password, which a
// user sets after a compromise, voids the trust a thief's browser holds), as allauth's
// configuration fingerprint covers the password and every authenticator.
func (s *Service) mfaFingerprint(ctx context.Context, u *User) (string, error) {
	d, err := s.activeTOTP(ctx, u.ID)
	if err != nil {
		return "", err
	}
	var keys []WebAuthnCredential
	if s.cfg.WebAuthn.Enabled {
		if keys, err = s.store.WebAuthnCredentials(ctx, u.ID); err != nil {
			return "", err
		}
	}
	if d == nil && len(keys) == 0 {
		return "", nil
	}
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("restauth.mfa-trust.fingerprint.v2\x00"))
	mac.Write([]byte(s.sessionAuthHash(u)))
	mac.Write([]byte{0})
	if d != nil {
		mac.Write([]byte("totp\x00"))
		mac.Write(d.SealedSecret)
		mac.Write([]byte{0})
		mac.Write([]byte(strconv.FormatInt(d.Created.UnixMicro(), 10)))
		mac.Write([]byte{0})
	}
	ids := make([]string, len(keys))
	for i := range keys {
		ids[i] = base64.RawURLEncoding.EncodeToString(keys[i].CredentialID)
	}
	slices.Sort(ids) // the store's order is not the fingerprint's
	for _, id := range ids {
		mac.Write([]byte("webauthn\x00" + id + "\x00"))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16]), nil
}
