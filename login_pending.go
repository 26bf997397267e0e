package restauth

import (
	"cmp"
	"context"
	"errors"
	"time"
)

// This file holds the two-step login of browsers (the reference's `mfa` flow of login/):
// the password first, the second factor on a page of its own. Both steps are Login's
// rules: the same limits, audit events and replay protection as a login that sends its
// code with the password.

// pendingLoginLifetime bounds the time between the two steps, as allauth's LOGIN_TIMEOUT
// bounds its login stages: a pending login left in a shared browser expires.
const pendingLoginLifetime = 10 * time.Minute

// ErrLoginExpired: a pending login is over (expired, or its user changed their password or
// was deactivated since); the password step must be done again.
var ErrLoginExpired = errors.New("restauth: the pending login expired")

// PendingLogin is a login whose password was right and whose second factor is still due
// (LoginResult.Pending). The dialect keeps it (in the session) and hands it to
// CompleteLogin; it holds no password.
type PendingLogin struct {
	UserID int64
	// AuthHash ties the pending login to the password it was started with, like a
	// session's auth hash: a password change in between ends it.
	AuthHash string
	Expires  time.Time
	// FirstFactor is how the first step was passed when it was not the password: "code"
	// (ConfirmLoginCode) or "social" (a provider login with SocialFlowCallback.MFAStep or
	// ProviderTokenLogin.MFAStep, Provider naming the provider). CompleteLogin's audit
	// event names it.
	FirstFactor string
	Provider    string
	// Email is, for FirstFactor "code", the address the login code was mailed to and
	// proved: under mandatory verification CompleteLogin accepts it, verified, in place
	// of a verified primary, as ConfirmLoginCode did (ignored for other first factors).
	Email string
}

// pendingLogin returns the pending login of u when it needs a second factor that the
// request did not give (Config.MFA on and an active TOTP device or a WebAuthn
// credential), else nil.
func (s *Service) pendingLogin(ctx context.Context, u *User, code string) (*PendingLogin, error) {
	if !s.cfg.MFA.Enabled || code != "" {
		return nil, nil
	}
	_, enrolled, err := s.secondFactors(ctx, u.ID)
	if err != nil || !enrolled {
		return nil, err
	}
	return &PendingLogin{UserID: u.ID, AuthHash: s.sessionAuthHash(u), Expires: s.now().Add(pendingLoginLifetime)}, nil
}

// CompleteLogin is the second step of a login that LoginRequest.Defer made pending: it
// checks code (a current TOTP code or an unused recovery code) for the pending user and
// logs them in without issuing a token (the browser's session is the login; its token
// comes from the token route). The attempt counts towards the same limits as Login's
// (RateLimits.LoginFailedPerIP/PerAccount/PerAccountDaily for the user's name and the
// MFA limits), a used TOTP step or recovery code is refused as at Login, and it emits
// AuditLoginSucceeded ("method=password+totp" or "+recovery_code") or AuditLoginFailed.
// Errors: ErrLoginExpired; a *ValidationError matching ErrInvalidMFACode; a
// *ThrottledError.
func (s *Service) CompleteLogin(ctx context.Context, p PendingLogin, code string) (_ *LoginResult, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "CompleteLogin")
	defer opSpan.end(&opErr)
	return s.completeLogin(ctx, p, func(u *User) (mfaMethod, error) {
		if code == "" {
			return mfaNone, incorrectCode("mfa_code") // nothing to check: an attempt all the same
		}
		return s.secondFactor(ctx, u, code)
	})
}

// pendingUser returns the user of a pending login that is still valid, else
// ErrLoginExpired.
func (s *Service) pendingUser(ctx context.Context, p PendingLogin) (*User, error) {
	if !s.now().Before(p.Expires) {
		return nil, ErrLoginExpired
	}
	u, err := s.store.UserByID(ctx, p.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrLoginExpired
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive || s.sessionAuthHash(u) != p.AuthHash {
		return nil, ErrLoginExpired
	}
	return u, nil
}

// completeLogin is the second step of a pending login with check, the second factor
// (a code, or a WebAuthn assertion), under CompleteLogin's limits and events.
func (s *Service) completeLogin(ctx context.Context, p PendingLogin, check func(u *User) (mfaMethod, error)) (*LoginResult, error) {
	u, err := s.pendingUser(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := s.throttleLogin(ctx, u.Username); err != nil {
		return nil, err
	}
	method, err := check(u)
	if err == nil {
		proven := ""
		if p.FirstFactor == AuditMethodCode {
			proven = p.Email
		}
		if err = s.checkVerifiedProven(ctx, u, proven); errors.Is(err, errUnverified) {
			err = causedFieldError(ErrEmailNotVerified, nonFieldErrors, msgEmailNotVerified)
		}
	}
	if err == nil {
		now := s.now().UTC()
		u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &now})
	}
	if err != nil {
		if reason := loginFailure(err); reason != "" && !errors.Is(err, ErrWebAuthnCloned) { // recordUse audited a clone
			s.auditLoginFailed(ctx, u, u.Username, AuditEvent{Method: AuditMethodMFAPage, Reason: reason, Detail: "method=" + AuditMethodMFAPage})
		}
		return nil, err
	}
	s.passwordAccepted(ctx, u.Username, false)
	s.loginSucceeded(ctx, u.Username)
	first := cmp.Or(p.FirstFactor, AuditMethodPassword)
	detail := "method=" + first
	if method != mfaNone {
		detail += "+" + string(method)
	}
	if p.Provider != "" {
		detail += " provider=" + p.Provider
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditLoginSucceeded, Method: first, MFAMethod: string(method), Detail: detail})
	return &LoginResult{User: u, MFAMethod: string(method)}, nil
}
