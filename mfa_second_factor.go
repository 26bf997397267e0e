package restauth

import (
	"context"
	"errors"
	"strings"

	"github.com/restauth/restauth/internal/otp"
)

// This file holds the second step of a login and of a sensitive change: a TOTP or recovery
// code checked against the user's factors, with its attempt limits.

// mfaMethod names the second factor a login used, for the audit trail.
type mfaMethod string

const (
	mfaNone     mfaMethod = ""
	mfaTOTP     mfaMethod = "totp"
	mfaRecovery mfaMethod = "recovery_code"
)

// useSecondFactor accepts code as a TOTP code (six digits; refused when d, the user's
// device, is nil) or else as a recovery code, consuming it.
// Every attempt counts towards Config.RateLimits.MFAFailedPerUserIP and MFAFailedPerUser
// before it is checked, so a refused attempt is refused unchecked and reveals nothing; a
// correct code clears both counts.
func (s *Service) useSecondFactor(ctx context.Context, userID int64, d *TOTPDevice, code string) (bool, mfaMethod, error) {
	if err := s.countMFAAttempt(ctx, userID); err != nil {
		return false, mfaNone, err
	}
	// Apps show "123 456"; people type what they see.
	compact := strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	method := mfaRecovery
	var ok bool
	var err error
	switch {
	case isTOTPCode(compact) && d != nil:
		method = mfaTOTP
		ok, err = s.useTOTPCode(ctx, d, compact, false)
	case isTOTPCode(compact):
		method = mfaTOTP // no device: no TOTP code is right
	default:
		ok, err = s.useRecoveryCode(ctx, userID, code)
	}
	if ok && err == nil {
		s.mfaSucceeded(ctx, userID)
	}
	return ok, method, err
}

// mfaSucceeded clears the user's counts of second-factor attempts after a correct one.
func (s *Service) mfaSucceeded(ctx context.Context, userID int64) {
	s.resetRate(ctx, s.cfg.RateLimits.MFAFailedPerUser, userKey(userID))
	if key, known := s.mfaAddrKey(ctx, userID); known {
		s.resetRate(ctx, s.cfg.RateLimits.MFAFailedPerUserIP, key)
	}
}

// countMFAAttempt records one second-factor attempt of the user; a *ThrottledError when
// they are over Config.RateLimits.MFAFailedPerUserIP (from the client's address: the
// ordinary refusal, which codes guessed elsewhere do not reach) or MFAFailedPerUser (from
// everywhere: the daily cap on distributed guessing). The address is counted first, so a
// refused address adds nothing to the user's daily count.
func (s *Service) countMFAAttempt(ctx context.Context, userID int64) error {
	if key, ok := s.mfaAddrKey(ctx, userID); ok {
		if err := s.throttle(ctx, s.cfg.RateLimits.MFAFailedPerUserIP, key); err != nil {
			return err
		}
	}
	return s.throttle(ctx, s.cfg.RateLimits.MFAFailedPerUser, userKey(userID))
}

// mfaAddrKey is the key of MFAFailedPerUserIP for the client in ctx, and whether one is
// known.
func (s *Service) mfaAddrKey(ctx context.Context, userID int64) (string, bool) {
	addr := clientAddr(ctx)
	if addr == "" {
		return "", false
	}
	return userKey(userID) + ":ip:" + addr, true
}

func isTOTPCode(code string) bool {
	if len(code) != otp.Digits {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// secondFactor is the login's second step for u, who has already given the right
// password. It returns the method used (mfaNone when the user needs no second factor);
// a user who needs one and gave no code gets the reference's 403.
func (s *Service) secondFactor(ctx context.Context, u *User, code string) (mfaMethod, error) {
	if !s.cfg.MFA.Enabled {
		return mfaNone, nil
	}
	d, enrolled, err := s.secondFactors(ctx, u.ID)
	if err != nil {
		return mfaNone, err
	}
	switch {
	case !enrolled && s.cfg.MFA.Required:
		// Not enrolled yet: enrol on the mfa/ routes (Basic is accepted there) first.
		return mfaNone, mfaRequired()
	case !enrolled:
		return mfaNone, nil
	case code == "":
		// A user with a WebAuthn credential answers it on the second-factor step
		// (CompleteLoginWithWebAuthn), or gives a code (TOTP, recovery) here.
		return mfaNone, mfaRequired()
	}
	ok, method, err := s.useSecondFactor(ctx, u.ID, d, code)
	if err != nil {
		return mfaNone, err
	}
	if !ok {
		return mfaNone, incorrectCode("mfa_code")
	}
	return method, nil
}

// checkMFA refuses authentication that would get around MFA. Basic sends the password
// alone, so it is refused for users with TOTP active (unless Config.MFA.AllowBasic). When
// MFA is required, a user who has not enrolled reaches only the routes marked beforeMFA
// (enrolment and logout), whatever the credential: a token from registration, or one
// issued before MFA.Required was turned on, must not be a way around it.
func (s *Service) checkMFA(ctx context.Context, auth requestAuth, beforeMFA bool) error {
	if !s.cfg.MFA.Enabled || auth.user == nil {
		return nil
	}
	basic := auth.method == AuthBasic && !s.cfg.MFA.AllowBasic
	if !basic && (!s.cfg.MFA.Required || beforeMFA) {
		return nil // the common case costs no store lookup
	}
	_, enrolled, err := s.secondFactors(ctx, auth.user.ID)
	if err != nil {
		return err
	}
	if (enrolled && basic) || (!enrolled && s.cfg.MFA.Required && !beforeMFA) {
		s.auditLoginFailed(ctx, auth.user, auth.user.Username, AuditEvent{Method: auth.method.String(), Reason: AuditReasonMFARequired, Detail: "method=" + auth.method.String()})
		return mfaRequired()
	}
	return nil
}

// reauthenticated runs op, an MFA change that checks proof. Attempts with a code or a
// password count towards the user's failed-login limits, like logins, so a stolen session
// cannot guess the password or a code here faster than at login; a failed proof emits
// AuditLoginFailed ("method=reauthentication"), and a success gives the address's attempt
// back and clears the account's count.
func (s *Service) reauthenticated(ctx context.Context, u *User, proof MFAProof, op func() error) error {
	if proof.Code != "" || proof.Password != "" {
		if err := s.throttleLogin(ctx, u.Username); err != nil {
			return err
		}
	}
	if proof.Code == "" && proof.Password == "" {
		return op() // the session's recent authentication: no attempt to count or give back
	}
	if err := op(); err != nil {
		var verr *ValidationError
		switch {
		case errors.Is(err, ErrInvalidMFACode):
			s.auditLoginFailed(ctx, u, u.Username, AuditEvent{Method: AuditMethodReauthenticate, Reason: AuditReasonInvalidMFACode, Detail: "method=reauthentication"})
		case errors.As(err, &verr) && len(verr.Fields["password"]) > 0:
			s.auditLoginFailed(ctx, u, u.Username, AuditEvent{Method: AuditMethodReauthenticate, Reason: AuditReasonInvalidCredentials, Detail: "method=reauthentication"})
		}
		return err
	}
	s.passwordAccepted(ctx, u.Username, false)
	s.loginSucceeded(ctx, u.Username)
	return nil
}
