package restauth

import (
	"context"
)

// This file holds password reset by code (allauth's ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED):
// the request mails a code instead of a link, and the code, entered in the same client
// within Config.PasswordResetByCode.Timeout and MaxAttempts tries, sets the password. The
// rules are the link's (RequestPasswordReset, ConfirmPasswordReset): the same switch, rate
// limits, choice of account, password checks and what follows a reset.

// resetCodeLength is the length of a reset code: longer than a login code (restauth's own
// choice), as it sets a password.
const resetCodeLength = 8

// RequestPasswordResetCode mails a password-reset code to the account RequestPasswordReset
// would mail a link to, and returns the PendingCode the dialect keeps. It answers exactly
// as RequestPasswordReset does — the same rate limits, and a PendingCode for every valid
// address, with the lookup and the mail in the background — so nothing tells whether an
// account holds the address. Errors: ErrCodeFlowDisabled without
// Config.PasswordResetByCode.Enabled, and RequestPasswordReset's.
func (s *Service) RequestPasswordResetCode(ctx context.Context, email string) (_ *PendingCode, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RequestPasswordResetCode")
	defer opSpan.end(&opErr)
	if !s.cfg.PasswordResetByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	if err := s.resetRequestAllowed(ctx, email); err != nil {
		return nil, err
	}
	p, code := s.newPendingCode(codeReset, s.cfg.PasswordResetByCode, email, 0, resetCodeLength)
	s.queueMail(ctx, mailIntent{job: jobMailedCode, email: email, Kind: MailPasswordResetCode, data: MailData{Code: code}})
	return p, nil
}

// CheckPasswordResetCode tells whether code is right for p without using it up (allauth's
// GET auth/password/reset with the code as key), and returns the user it resets. The check
// counts as one of the attempts. Errors: ErrCodeFlowDisabled, ErrCodeExpired, a
// *ValidationError on "code" matching ErrInvalidCode, a *ValidationError matching
// ErrPasswordResetDisabled.
func (s *Service) CheckPasswordResetCode(ctx context.Context, p PendingCode, code string) (*User, error) {
	c, err := s.resetCodeCandidate(ctx, p, code)
	if err != nil {
		return nil, err
	}
	return c.user, nil
}

// resetCodeCandidate checks the switches and code and returns the account it resets.
func (s *Service) resetCodeCandidate(ctx context.Context, p PendingCode, code string) (*resetCandidate, error) {
	if !s.cfg.PasswordResetByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	if s.cfg.DisablePasswordReset {
		return nil, resetDisabled()
	}
	if err := s.checkCode(ctx, codeReset, s.cfg.PasswordResetByCode, p, code, false); err != nil {
		return nil, err
	}
	c, err := s.codeCandidate(ctx, p.Email)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, causedFieldError(ErrInvalidCode, "code", msgIncorrectCode) // the account is gone
	}
	return c, nil
}

// ResetPasswordWithCode sets a new password with the code of p (allauth's POST
// auth/password/reset with the code as key). The code is checked (one attempt), then the
// new passwords as by ConfirmPasswordReset (errors on new_password2, which leave the code
// usable for its remaining attempts), and only then is it used up; the reset then does all
// ConfirmPasswordReset does afterwards (caps cleared, AuditPasswordReset, credentials
// revoked when configured, the notice). Errors: CheckPasswordResetCode's, the password
// *ValidationError, ErrCodeExpired when a concurrent reset used the code first.
func (s *Service) ResetPasswordWithCode(ctx context.Context, p PendingCode, code, new1, new2 string) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ResetPasswordWithCode")
	defer opSpan.end(&opErr)
	c, err := s.resetCodeCandidate(ctx, p, code)
	if err != nil {
		return nil, err
	}
	if err := s.validateNewPassword(ctx, c.user, new1, new2); err != nil {
		return nil, err
	}
	if err := s.spendCode(ctx, codeReset, s.cfg.PasswordResetByCode, p); err != nil {
		return nil, err
	}
	return s.resetTo(ctx, c.user, c.emails, new1, new2)
}
