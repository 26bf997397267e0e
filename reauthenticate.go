package restauth

import (
	"context"
	"errors"
	"time"
)

// This file holds re-authentication (allauth's reauthenticate and 2fa/reauthenticate): a
// logged-in user confirms who they are again before a sensitive change, and the dialect
// records when (allauth keeps it in the session) and asks again once
// Config.ReauthenticationTimeout has passed (RecentlyAuthenticated).

// DefaultReauthenticationTimeout is Config.ReauthenticationTimeout's default, allauth's
// ACCOUNT_REAUTHENTICATION_TIMEOUT.
const DefaultReauthenticationTimeout = 300 * time.Second

// Reauthenticate checks the password of u, who is logged in already, and returns the time
// of this authentication for the dialect to record. It is limited and audited like a
// login: the attempt counts towards RateLimits.ReauthenticatePerUser and the login rules
// of u's username (a right password gives back what Login gives back), and a wrong one
// emits AuditLoginFailed ("method=reauthenticate"); a right one emits
// AuditReauthenticated. Errors: a *ValidationError on "password" matching
// ErrInvalidCredentials (also for an inactive or deleted user), a *ThrottledError,
// ErrBusy.
func (s *Service) Reauthenticate(ctx context.Context, u *User, password string) (_ time.Time, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "Reauthenticate")
	defer opSpan.end(&opErr)
	if err := s.throttle(ctx, s.cfg.RateLimits.ReauthenticatePerUser, userKey(u.ID)); err != nil {
		return time.Time{}, err
	}
	if err := s.throttleLogin(ctx, u.Username); err != nil {
		return time.Time{}, err
	}
	current, err := s.store.UserByID(ctx, u.ID)
	if errors.Is(err, ErrNotFound) {
		current, err = nil, nil // costs a hash and fails like a wrong password
	}
	if err != nil {
		return time.Time{}, err
	}
	if _, err := s.checkPassword(ctx, current, password); err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			s.auditLoginFailed(ctx, u, u.Username, AuditEvent{Method: AuditMethodReauthenticate, Reason: AuditReasonInvalidCredentials, Detail: "method=" + AuditMethodReauthenticate})
			return time.Time{}, causedFieldError(ErrInvalidCredentials, "password", msgIncorrectPassword)
		}
		return time.Time{}, err
	}
	s.passwordAccepted(ctx, u.Username, false)
	s.loginSucceeded(ctx, u.Username)
	s.audit(ctx, u, AuditEvent{Kind: AuditReauthenticated, Method: AuditMethodPassword, Detail: "method=" + AuditMethodPassword})
	return s.now(), nil
}

// ReauthenticateMFA checks a second-factor code (TOTP or an unused recovery code) of u,
// who is logged in already, as allauth's 2fa/reauthenticate, and returns the time of this
// authentication. It applies the second factor's own limits and replay protection
// (RateLimits.MFAFailedPerUser, MFAFailedPerUserIP) and emits AuditReauthenticated
// ("method=totp" or "recovery_code") or AuditLoginFailed. Errors: a *ValidationError on
// "mfa_code" matching ErrInvalidMFACode (also for a user without an active
// authenticator), a *ThrottledError.
func (s *Service) ReauthenticateMFA(ctx context.Context, u *User, code string) (_ time.Time, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ReauthenticateMFA")
	defer opSpan.end(&opErr)
	if _, err := s.reauthenticateMFA(ctx, u, code); err != nil {
		return time.Time{}, err
	}
	return s.now(), nil
}

// reauthenticateMFA is ReauthenticateMFA, returning the second factor that was used.
func (s *Service) reauthenticateMFA(ctx context.Context, u *User, code string) (mfaMethod, error) {
	// A TOTP device or a security key with recovery codes: either lets a code (TOTP or
	// recovery) reauthenticate; a key itself answers FinishWebAuthnReauthentication.
	d, enrolled, err := s.secondFactors(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if !s.cfg.MFA.Enabled || !enrolled || code == "" {
		return "", incorrectCode("mfa_code")
	}
	ok, method, err := s.useSecondFactor(ctx, u.ID, d, code)
	if err != nil {
		return "", err
	}
	if !ok {
		s.auditLoginFailed(ctx, u, u.Username, AuditEvent{Method: AuditMethodReauthenticate, Reason: AuditReasonInvalidMFACode, Detail: "method=" + AuditMethodReauthenticate})
		return "", incorrectCode("mfa_code")
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditReauthenticated, Method: string(method), Detail: "method=" + string(method)})
	return method, nil
}

// RecentlyAuthenticated reports whether an authentication at at (a login, Reauthenticate
// or ReauthenticateMFA) is recent enough for a sensitive change: within
// Config.ReauthenticationTimeout.
func (s *Service) RecentlyAuthenticated(at time.Time) bool {
	return !at.IsZero() && s.now().Sub(at) < s.cfg.ReauthenticationTimeout
}

// SessionRecentlyAuthenticatedAs reports whether the session in ctx is logged in as u and
// its last authentication is recent (SessionRecentlyAuthenticated). It is the rule every
// sensitive change of u takes "recently authenticated" from (MFAProof.FromSession, the
// WebAuthn changes) and what a dialect asks before one: a request authenticated otherwise
// than by its session (an app's JWT access token) may come with a session of nobody, or
// of another user, whose authentication records prove nothing about u — a stolen access
// token and the thief's own fresh reauthentication must not add up to the victim's. A ctx
// that carries no session is not recent either.
func (s *Service) SessionRecentlyAuthenticatedAs(ctx context.Context, u *User) bool {
	return u != nil && s.hasSession(ctx) && s.sessions.GetInt64(ctx, sessionUserKey) == u.ID &&
		s.SessionRecentlyAuthenticated(ctx)
}
