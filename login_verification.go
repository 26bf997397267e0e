package restauth

import (
	"context"
	"errors"
)

// VerificationPendingError is Login's refusal of a login whose address is unverified when
// LoginRequest.MailVerification mailed a verification code (Config.EmailVerificationByCode)
// rather than a link: allauth's verify_email stage by code. It matches
// ErrEmailNotVerified, as the plain refusal does, and carries the code's PendingCode for
// the dialect to keep for VerifyEmailCode.
type VerificationPendingError struct {
	// Code is the pending verification code mailed for the address.
	Code *PendingCode
	err  error
}

// Error is the refusal's message.
func (e *VerificationPendingError) Error() string { return e.err.Error() }

// Unwrap returns the refusal, a *ValidationError matching ErrEmailNotVerified.
func (e *VerificationPendingError) Unwrap() error { return e.err }

// mailVerificationOnRefusedLogin mails a new confirmation link (or, with
// Config.EmailVerificationByCode, a code, whose PendingCode it returns) when a login with
// the right password is refused because the user's address is unverified (mandatory
// verification), as allauth's login does: the user learns where to look instead of being
// stuck. The link is for the primary address, else the first unverified one. Links and
// codes to one address are limited by RateLimits.ResendPerEmail like every other (the
// same key): over the limit nothing is mailed and the refusal is the same. The mail is
// queued in the background and failures are logged, never returned.
func (s *Service) mailVerificationOnRefusedLogin(ctx context.Context, u *User) *PendingCode {
	addrs, err := s.store.EmailAddresses(ctx, u.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "restauth: could not read the addresses for a confirmation after a refused login", "user_id", u.ID, "error", err)
		return nil
	}
	var addr *EmailAddress
	for i := range addrs {
		if a := &addrs[i]; !a.Verified && (addr == nil || a.Primary) {
			addr = a
		}
	}
	if addr == nil {
		return nil
	}
	if s.cfg.EmailVerificationByCode.Enabled {
		// The code request counts towards the same limit and skips an address taken.
		p, err := s.RequestEmailVerificationCode(ctx, u.ID, addr.ID)
		var throttled *ThrottledError
		switch {
		case errors.As(err, &throttled):
			s.log.InfoContext(ctx, "restauth: no verification code mailed after a refused login: too many to the address lately", "user_id", u.ID, "email_address_id", addr.ID)
		case err != nil:
			s.log.ErrorContext(ctx, "restauth: could not mail a verification code after a refused login", "user_id", u.ID, "email_address_id", addr.ID, "error", err)
		}
		return p
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(addr.Email)); err != nil {
		s.log.InfoContext(ctx, "restauth: no confirmation mailed after a refused login: too many links to the address lately", "user_id", u.ID, "email_address_id", addr.ID)
		return nil
	}
	s.confirmUnlessTaken(ctx, u, addr)
	return nil
}
