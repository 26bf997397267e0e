package restauth

import (
	"context"
	"errors"
	"fmt"
)

// This file holds e-mail verification by code (allauth's
// ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED): a code mailed to the address, entered in the
// same client within Config.EmailVerificationByCode.Timeout and MaxAttempts tries, verifies
// it. The rules are the link's (RequestVerification, VerifyEmail): the same limit per
// address, no mail for an address another user holds verified, the same verification.

// verifyCodeLength is the length of a verification code, allauth's.
const verifyCodeLength = 6

// RequestEmailVerificationCode mails a code verifying one of the user's addresses and
// returns the PendingCode the dialect keeps for VerifyEmailCode (after signup, and for
// allauth's resend). Requests for one address count towards RateLimits.ResendPerEmail, as
// links do; another user's or an unknown id, and an address verified already, give an
// error matching ErrNotFound; no code is mailed for an address another user holds
// verified (the pending code then matches nothing). Errors also: ErrCodeFlowDisabled
// without Config.EmailVerificationByCode.Enabled, a *ThrottledError.
func (s *Service) RequestEmailVerificationCode(ctx context.Context, userID, addressID int64) (_ *PendingCode, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RequestEmailVerificationCode")
	defer opSpan.end(&opErr)
	if !s.cfg.EmailVerificationByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	addr, err := s.ownEmailAddress(ctx, userID, addressID)
	if err != nil {
		return nil, err
	}
	if addr.Verified {
		return nil, fmt.Errorf("restauth: e-mail address %d is verified already: %w", addr.ID, ErrNotFound)
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(addr.Email)); err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	p, code := s.newPendingCode(codeVerify, s.cfg.EmailVerificationByCode, addr.Email, addr.ID, verifyCodeLength)
	s.queueMail(ctx, mailIntent{job: jobMailedCode, userID: u.ID, email: addr.Email, AddressID: addr.ID,
		Kind: MailEmailConfirmationCode, data: MailData{Code: code}})
	return p, nil
}

// VerifyEmailCode verifies the address of p with its code (allauth's POST
// auth/email/verify with the code as key), as VerifyEmail does with a key: the address
// becomes primary if its user has none, AuditEmailVerified is emitted, and an address
// another user verified meanwhile stays unverified (returned with a *ConflictError). The
// attempt counts; a right code is used up. An address that is gone, changed or verified
// since gives ErrCodeExpired. Errors also: ErrCodeFlowDisabled, a *ValidationError on
// "code" matching ErrInvalidCode.
func (s *Service) VerifyEmailCode(ctx context.Context, p PendingCode, code string) (_ *EmailAddress, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "VerifyEmailCode")
	defer opSpan.end(&opErr)
	if !s.cfg.EmailVerificationByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	if err := s.checkCode(ctx, codeVerify, s.cfg.EmailVerificationByCode, p, code, true); err != nil {
		return nil, err
	}
	addr, err := s.codeAddress(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.verifyAddress(ctx, addr)
}

// codeAddress is the address a verification code is for, ErrCodeExpired when it is gone,
// changed or verified since the code was mailed.
func (s *Service) codeAddress(ctx context.Context, p PendingCode) (*EmailAddress, error) {
	addr, err := s.store.EmailAddressByID(ctx, p.AddressID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrCodeExpired
	}
	if err != nil {
		return nil, err
	}
	if addr.Verified || addr.Email != p.Email {
		return nil, ErrCodeExpired
	}
	return addr, nil
}

// CheckEmailVerificationCode tells whether code is right for p without using it up
// (allauth's GET auth/email/verify with the code as key), and returns the address it
// verifies and its user. The check counts as one of the attempts, as VerifyEmailCode's.
// A concealed registration's decoy (no address) answers as a wrong code, so that the two
// cannot be told apart. Errors: ErrCodeFlowDisabled, ErrCodeExpired (also for an address
// gone, changed or verified since), a *ValidationError on "code" matching ErrInvalidCode.
func (s *Service) CheckEmailVerificationCode(ctx context.Context, p PendingCode, code string) (*EmailAddress, *User, error) {
	if !s.cfg.EmailVerificationByCode.Enabled {
		return nil, nil, ErrCodeFlowDisabled
	}
	if err := s.checkCode(ctx, codeVerify, s.cfg.EmailVerificationByCode, p, code, false); err != nil {
		return nil, nil, err
	}
	if p.AddressID == 0 {
		// The decoy's code was never mailed: a match is a guess, answered as a miss.
		return nil, nil, causedFieldError(ErrInvalidCode, "code", msgIncorrectCode)
	}
	addr, err := s.codeAddress(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.UserByID(ctx, addr.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrCodeExpired
	}
	if err != nil {
		return nil, nil, err
	}
	return addr, u, nil
}

// decoyVerificationCode is the PendingCode of a verification that does not exist (a
// concealed registration): its code was never mailed, so none matches (AddressID 0).
func (s *Service) decoyVerificationCode(email string) *PendingCode {
	p, _ := s.newPendingCode(codeVerify, s.cfg.EmailVerificationByCode, email, 0, verifyCodeLength)
	return p
}

// ResendEmailVerificationCode mails a new code for the verification p (which the dialect
// kept from RegisterResult.VerificationCode or RequestEmailVerificationCode) and returns
// its PendingCode, which replaces p. It counts towards RateLimits.ResendPerEmail, as
// RequestEmailVerificationCode; a concealed registration's decoy answers exactly alike
// (a new decoy, no mail). Errors: ErrCodeFlowDisabled, an error matching ErrNotFound
// when the address is gone or verified since, a *ThrottledError.
func (s *Service) ResendEmailVerificationCode(ctx context.Context, p PendingCode) (_ *PendingCode, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ResendEmailVerificationCode")
	defer opSpan.end(&opErr)
	if !s.cfg.EmailVerificationByCode.Enabled {
		return nil, ErrCodeFlowDisabled
	}
	if p.AddressID == 0 {
		if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(p.Email)); err != nil {
			return nil, err
		}
		return s.decoyVerificationCode(p.Email), nil
	}
	addr, err := s.store.EmailAddressByID(ctx, p.AddressID)
	if err != nil {
		return nil, err
	}
	return s.RequestEmailVerificationCode(ctx, addr.UserID, addr.ID)
}
