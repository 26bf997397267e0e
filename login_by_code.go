package restauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/restauth/restauth/internal/validate"
)

// This file holds login by code (allauth's LOGIN_BY_CODE): a code mailed to the address
// is the first factor, instead of the password. A user with a second factor still needs
// it afterwards: the code stands for the password, not for both.

// loginCodeLength is the length of a login code, allauth's.
const loginCodeLength = 6

// RequestLoginCode mails a sign-in code, to email itself, for the account holding email as
// any of its addresses, primary or not, verified or not (the one holding it verified if
// there is one, else the oldest holder, as RequestPasswordReset chooses: allauth's
// filter_users_by_email with prefer_verified), and returns the PendingCode the dialect
// keeps for ConfirmLoginCode. Nothing tells whether an
// account holds the address: a pending code is returned for every valid address (for an
// unknown one no code can ever match), the requests count towards
// RateLimits.LoginCodePerIP and LoginCodePerEmail alike, and the lookup and mail run in
// the background after the same work for every address. Errors: ErrCodeFlowDisabled
// without Config.LoginByCode.Enabled, a *ValidationError on "email", a *ThrottledError.
func (s *Service) RequestLoginCode(ctx context.Context, email string) (_ *PendingCode, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RequestLoginCode")
	defer opSpan.end(&opErr)
	if !s.cfg.LoginByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	return s.mailLoginCodeFor(ctx, email)
}

// mailLoginCodeFor is RequestLoginCode and ResendLoginCode after the switch.
func (s *Service) mailLoginCodeFor(ctx context.Context, email string) (*PendingCode, error) {
	if err := s.throttleAddr(ctx, s.cfg.RateLimits.LoginCodePerIP); err != nil {
		return nil, err
	}
	if !validate.Email(email) {
		return nil, fieldError("email", msgInvalidEmail)
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.LoginCodePerEmail, s.emailKey(email)); err != nil {
		return nil, err
	}
	p, code := s.newPendingCode(codeLogin, s.cfg.LoginByCode, email, 0, loginCodeLength)
	s.queueMail(ctx, mailIntent{job: jobMailedCode, email: email, Kind: MailLoginCode, data: MailData{Code: code}})
	return p, nil
}

// mailCodeNow is jobMailedCode: it mails in.data.Code to the account holding in.email
// (none: nothing to do, exactly as for a known address up to here), or, with
// in.AddressID, to that address of in.userID if it still holds it and no other user holds
// it verified.
func (s *Service) mailCodeNow(ctx context.Context, in mailIntent) error {
	data := MailData{Code: in.data.Code}
	if in.AddressID != 0 {
		u, addr, err := s.intentAddress(ctx, in)
		if u == nil || err != nil {
			return err
		}
		data.Email = addr.Email
		return s.mailUnlessTaken(ctx, u, addr, func(ctx context.Context) error {
			s.hooks.mint(ctx)
			return s.sendNow(ctx, in.Kind, u, data, "email_address_id", addr.ID)
		})
	}
	c, err := s.codeCandidate(ctx, in.email)
	if err != nil {
		return fmt.Errorf("restauth: look up the account for a mailed code: %w", err)
	}
	if c == nil {
		return nil
	}
	s.hooks.mint(ctx)
	data.Email = c.to
	return s.sendNow(ctx, in.Kind, c.user, data)
}

// codeCandidate is the account a code for email goes to and is confirmed for: the first
// of usersHoldingEmail (nil when none).
func (s *Service) codeCandidate(ctx context.Context, email string) (*resetCandidate, error) {
	users, err := s.usersHoldingEmail(ctx, email)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	return &users[0], nil
}

// ResendLoginCode mails a new code for the address of p, which must not have expired, and
// returns its PendingCode, which replaces p (p's own code keeps its remaining attempts
// until it expires). It counts as a request (RateLimits.LoginCodePerIP, LoginCodePerEmail).
// Errors: ErrCodeFlowDisabled, ErrCodeExpired, a *ThrottledError.
func (s *Service) ResendLoginCode(ctx context.Context, p PendingCode) (_ *PendingCode, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ResendLoginCode")
	defer opSpan.end(&opErr)
	if !s.cfg.LoginByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	if p.Nonce == "" || !s.now().Before(p.Expires) {
		return nil, ErrCodeExpired
	}
	return s.mailLoginCodeFor(ctx, p.Email)
}

// LoginCodeConfirm is the second step of a login by code.
type LoginCodeConfirm struct {
	// Pending is what RequestLoginCode (or ResendLoginCode) returned.
	Pending PendingCode
	// Code is the code the user typed; case, spaces and hyphens do not matter.
	Code string
	// MFATrust is a trust token of the user's (IssueMFATrust), if the client holds one:
	// it skips the second factor as at Login.
	MFATrust string
}

// ConfirmLoginCode checks the code of a login by code and logs its user in without issuing
// a token (the dialect opens the session or calls IssueJWT). The attempt counts towards
// Config.LoginByCode.MaxAttempts for the pending code; a right code is used up. The code
// proves the address, so an unverified address of the user is verified (and becomes
// primary if they have none), and under mandatory verification that address counts as
// verified for this login (and for its CompleteLogin: PendingLogin.Email) even while the
// primary is not, as in allauth. A user with an active second factor gets a result with
// Pending set (finish with CompleteLogin) unless req.MFATrust is a valid trust token; under
// MFA.Required a user who has not enrolled gets ErrMFARequired. It emits
// AuditLoginSucceeded ("method=code") or AuditLoginFailed. Errors: ErrCodeFlowDisabled,
// ErrCodeExpired (expired, attempts used up, used: ask for a new code), a
// *ValidationError on "code" matching ErrInvalidCode, a *ValidationError matching
// ErrEmailNotVerified, a *PermissionError matching ErrMFARequired.
func (s *Service) ConfirmLoginCode(ctx context.Context, req LoginCodeConfirm) (_ *LoginResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ConfirmLoginCode")
	defer opSpan.end(&opErr)
	if !s.cfg.LoginByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	err := s.checkCode(ctx, codeLogin, s.cfg.LoginByCode, req.Pending, req.Code, true)
	var c *resetCandidate
	if err == nil {
		if c, err = s.codeCandidate(ctx, req.Pending.Email); err == nil && c == nil {
			err = causedFieldError(ErrInvalidCode, "code", msgIncorrectCode) // the account is gone
		}
	}
	if err != nil {
		if errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrCodeExpired) {
			s.auditLoginFailed(ctx, nil, req.Pending.Email, AuditEvent{Method: AuditMethodCode, Reason: AuditReasonInvalidCode, Detail: "method=" + AuditMethodCode})
		}
		return nil, err
	}
	u := c.user
	if err := s.verifyMailedAddress(ctx, u, c.to); err != nil {
		return nil, err
	}
	res, err := s.firstFactorDone(ctx, u, req.MFATrust, c.to)
	if err != nil {
		if reason := loginFailure(err); reason != "" {
			s.auditLoginFailed(ctx, u, req.Pending.Email, AuditEvent{Method: AuditMethodCode, Reason: reason, Detail: "method=" + AuditMethodCode})
		}
		return nil, err
	}
	if res.Pending == nil {
		s.audit(ctx, res.User, AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodCode, Detail: "method=" + AuditMethodCode})
	} else {
		res.Pending.FirstFactor = AuditMethodCode
		res.Pending.Email = c.to
	}
	return res, nil
}

// verifyMailedAddress marks the user's address addr verified (primary if they have none)
// after a mailed code proved it; an address another user holds verified stays as it is.
func (s *Service) verifyMailedAddress(ctx context.Context, u *User, addr string) error {
	addrs, err := s.store.EmailAddresses(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if a.Verified || !equalFoldEmail(a.Email, addr) {
			continue
		}
		verified, err := s.store.VerifyEmailAddress(ctx, a.ID, true)
		if errors.Is(err, ErrConflict) {
			return nil
		}
		if err != nil {
			return err
		}
		s.audit(ctx, u, AuditEvent{Kind: AuditEmailVerified, Detail: emailDetail(verified)})
	}
	return nil
}

// checkVerifiedProven is checkVerified for a login whose first factor proved the user's
// address proven (a login code mailed to it, verified by verifyMailedAddress): under
// mandatory verification that address, verified, lets the login through as a verified
// primary does. allauth's EmailVerificationStage asks has_verified_email(user,
// login.email), the address the code went to, not the primary: someone who typed the
// code from a secondary address has proved a mailbox of theirs, and refusing them would
// send them to verify the primary they did not use. proven "" is checkVerified.
func (s *Service) checkVerifiedProven(ctx context.Context, u *User, proven string) error {
	if s.cfg.EmailVerification != VerificationMandatory || proven == "" {
		return s.checkVerified(ctx, u)
	}
	addrs, err := s.store.EmailAddresses(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if a.Verified && equalFoldEmail(a.Email, proven) {
			return nil
		}
	}
	return s.checkVerified(ctx, u)
}

// firstFactorDone is what follows a first factor other than the password (a login code
// that proved the address proven): the verification check, the second factor's gate (a
// pending login, unless trust is a valid trust token of the user) and the recorded login.
func (s *Service) firstFactorDone(ctx context.Context, u *User, trust, proven string) (*LoginResult, error) {
	if err := s.checkVerifiedProven(ctx, u, proven); err != nil {
		if errors.Is(err, errUnverified) {
			return nil, causedFieldError(ErrEmailNotVerified, nonFieldErrors, msgEmailNotVerified)
		}
		return nil, err
	}
	if !s.trusted(ctx, u, trust) {
		pending, err := s.pendingLogin(ctx, u, "")
		if err != nil {
			return nil, err
		}
		if pending != nil {
			return &LoginResult{User: u, Pending: pending}, nil
		}
		if _, err := s.secondFactor(ctx, u, ""); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	u, err := s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &now})
	if err != nil {
		return nil, err
	}
	return &LoginResult{User: u}, nil
}
