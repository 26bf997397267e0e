package restauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/restauth/restauth/internal/validate"
)

// This file holds the first half of passkey signup: the address is verified by a code
// before a passkey is made (allauth's auth/webauthn/signup POST, then auth/email/verify
// with the code), and only then does the person get a VerifiedSignup for
// BeginPasskeySignup. As the other mailed codes, nothing is stored: the dialect keeps the
// PendingPasskeySignup, then the VerifiedSignup, in its session.

// codePasskeySignup is the mailed-code purpose of passkey signup (its MAC and limits).
const codePasskeySignup = "passkey_signup"

// PasskeySignupRequest is what a person signing up with a passkey gives: a username and
// an address, no password.
type PasskeySignupRequest struct {
	Username string
	Email    string
}

// PendingPasskeySignup is a passkey signup waiting for the code mailed to its address,
// returned by RequestPasskeySignupCode. The dialect keeps it server side (the session)
// and passes it to VerifyPasskeySignupCode with the code typed; it holds no code. Its
// Username is bound to Code (its address and expiry included) by MAC, so neither can be
// changed.
type PendingPasskeySignup struct {
	Username string
	Code     PendingCode
	MAC      string
}

// RequestPasskeySignupCode starts a passkey signup: it checks the username and the address
// as registration does (free and valid; the request counts towards RateLimits.SignupPerIP,
// the address towards RateLimits.ResendPerEmail) and mails a code verifying the address
// (MailEmailConfirmationCode, valid Config.EmailVerificationByCode.Timeout for its
// MaxAttempts, whether or not that flow is enabled for other addresses). Under enumeration
// prevention (Config.AllowEnumeration off), an address another account holds verified is
// never reported: its owner is mailed MailAccountExists instead, and the
// PendingPasskeySignup returned looks the same but no code matches it. Errors:
// ErrWebAuthnDisabled, ErrPasskeyLoginDisabled, ErrPasskeySignupDisabled; a
// *ValidationError (matching ErrRegistrationClosed, ErrUsernameTaken, ErrEmailTaken, or
// with "email" required or invalid); a *ThrottledError.
func (s *Service) RequestPasskeySignupCode(ctx context.Context, req PasskeySignupRequest) (_ *PendingPasskeySignup, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RequestPasskeySignupCode")
	defer opSpan.end(&opErr)
	if err := s.passkeySignupEnabled(); err != nil {
		return nil, err
	}
	if s.cfg.DisableRegistration {
		return nil, causedFieldError(ErrRegistrationClosed, nonFieldErrors, msgRegistrationDisabled)
	}
	if err := s.throttleAddr(ctx, s.cfg.RateLimits.SignupPerIP); err != nil {
		return nil, err
	}
	su := VerifiedSignup{Username: validate.NormalizeUsername(req.Username), Email: req.Email}
	err := s.checkSignup(ctx, su)
	var emailTaken bool
	if !s.cfg.AllowEnumeration {
		emailTaken, err = withoutEmailTaken(err)
	}
	if err != nil {
		return nil, err
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(su.Email)); err != nil {
		return nil, err
	}
	if emailTaken {
		holder, addr, err := s.verifiedHolder(ctx, su.Email)
		if err != nil {
			return nil, err
		}
		if holder != nil {
			s.sendMail(ctx, MailAccountExists, holder, MailData{Email: addr.Email, Link: s.cfg.SiteURL})
			return s.decoySignup(su.Username, su.Email), nil
		}
		// The holder let the address go since the check: as for a free address.
	}
	return s.mailSignupCode(ctx, su.Username, su.Email), nil
}

// mailSignupCode mails a new code for the signup of username at email.
func (s *Service) mailSignupCode(ctx context.Context, username, email string) *PendingPasskeySignup {
	p, code := s.newPendingCode(codePasskeySignup, s.cfg.EmailVerificationByCode, email, 0, verifyCodeLength)
	s.sendMail(ctx, MailEmailConfirmationCode, &User{Username: username}, MailData{Email: email, Code: code})
	return s.bindSignup(username, *p, true)
}

// decoySignup is a concealed refusal's PendingPasskeySignup: no code was mailed for it.
func (s *Service) decoySignup(username, email string) *PendingPasskeySignup {
	p, _ := s.newPendingCode(codePasskeySignup, s.cfg.EmailVerificationByCode, email, 0, verifyCodeLength)
	return s.bindSignup(username, *p, false)
}

// ResendPasskeySignupCode mails a new code for the pending signup p (allauth's
// auth/email/verify/resend) and returns the PendingPasskeySignup that replaces p. It counts
// towards RateLimits.ResendPerEmail; a concealed refusal's answers alike (a new one, no
// mail). Errors: as RequestPasskeySignupCode's switches; ErrCodeExpired for an expired or
// altered p; a *ThrottledError.
func (s *Service) ResendPasskeySignupCode(ctx context.Context, p PendingPasskeySignup) (_ *PendingPasskeySignup, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ResendPasskeySignupCode")
	defer opSpan.end(&opErr)
	if err := s.passkeySignupEnabled(); err != nil {
		return nil, err
	}
	real, ok := s.openSignup(p)
	if !ok || !s.now().Before(p.Code.Expires) {
		return nil, ErrCodeExpired
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(p.Code.Email)); err != nil {
		return nil, err
	}
	if !real {
		return s.decoySignup(p.Username, p.Code.Email), nil
	}
	return s.mailSignupCode(ctx, p.Username, p.Code.Email), nil
}

// openSignup checks p's binding: ok when the Service made p, real when its code was mailed.
func (s *Service) openSignup(p PendingPasskeySignup) (real, ok bool) {
	real = hmac.Equal([]byte(p.MAC), []byte(s.pendingSignupMAC(p.Username, p.Code, true)))
	decoy := hmac.Equal([]byte(p.MAC), []byte(s.pendingSignupMAC(p.Username, p.Code, false)))
	return real, real || decoy
}

// bindSignup binds username to the pending code p; real tells a code that was mailed from
// a concealed refusal's, which VerifyPasskeySignupCode never accepts (the dialect cannot
// tell them apart).
func (s *Service) bindSignup(username string, p PendingCode, real bool) *PendingPasskeySignup {
	return &PendingPasskeySignup{Username: username, Code: p, MAC: s.pendingSignupMAC(username, p, real)}
}

// pendingSignupMAC binds username to every field of p that the code's own MAC does not
// hold, and to the address and expiry that a resend reuses.
func (s *Service) pendingSignupMAC(username string, p PendingCode, real bool) string {
	return s.signupMAC("pending", username, p.Nonce, p.Email, strconv.FormatInt(p.Expires.Unix(), 10), strconv.FormatBool(real))
}

// signupMAC is a keyed MAC of parts, for the passkey signup's bindings.
func (s *Service) signupMAC(parts ...string) string {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("restauth.passkey-signup"))
	for _, part := range parts {
		mac.Write([]byte{0})
		mac.Write([]byte(part))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyPasskeySignupCode checks the code typed for p (the attempt counts; a right code is
// used up) and returns the VerifiedSignup that BeginPasskeySignup takes, valid for
// Config.EmailVerificationByCode.Timeout. Errors: as RequestPasskeySignupCode's switches;
// ErrCodeExpired (expired, attempts used up, spent, or altered: the signup must start
// again); a *ValidationError on "code" matching ErrInvalidCode.
func (s *Service) VerifyPasskeySignupCode(ctx context.Context, p PendingPasskeySignup, code string) (_ *VerifiedSignup, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "VerifyPasskeySignupCode")
	defer opSpan.end(&opErr)
	if err := s.checkSignupCode(ctx, p, code, true); err != nil {
		return nil, err
	}
	su := &VerifiedSignup{Username: p.Username, Email: p.Code.Email,
		Expires: s.now().Add(s.cfg.EmailVerificationByCode.Timeout).Truncate(time.Second).UTC()}
	su.Proof = s.verifiedProof(su)
	return su, nil
}

// CheckPasskeySignupCode checks the code typed for p without using it up and returns the
// signup it verifies (its username and address): allauth's GET auth/email/verify while a
// passkey signup waits for its code, which shows the client whom the code is for before
// it is spent. The attempt counts towards Config.EmailVerificationByCode.MaxAttempts as
// VerifyPasskeySignupCode's do, so looking cannot be a way around them. A concealed
// refusal's p answers as a wrong code, as to anyone without the mail. Errors: as
// VerifyPasskeySignupCode's.
func (s *Service) CheckPasskeySignupCode(ctx context.Context, p PendingPasskeySignup, code string) (_ *PasskeySignupRequest, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "CheckPasskeySignupCode")
	defer opSpan.end(&opErr)
	if err := s.checkSignupCode(ctx, p, code, false); err != nil {
		return nil, err
	}
	return &PasskeySignupRequest{Username: p.Username, Email: p.Code.Email}, nil
}

// checkSignupCode checks the code typed for p, using it up when use is set (the attempt
// counts either way): the check of VerifyPasskeySignupCode and CheckPasskeySignupCode.
func (s *Service) checkSignupCode(ctx context.Context, p PendingPasskeySignup, code string, use bool) error {
	if err := s.passkeySignupEnabled(); err != nil {
		return err
	}
	real, ok := s.openSignup(p)
	if !ok {
		return ErrCodeExpired
	}
	if err := s.checkCode(ctx, codePasskeySignup, s.cfg.EmailVerificationByCode, p.Code, code, use); err != nil {
		return err
	}
	if !real {
		return causedFieldError(ErrInvalidCode, "code", msgIncorrectCode) // never mailed
	}
	return nil
}

// verifiedProof is the MAC that makes a VerifiedSignup the Service's own.
func (s *Service) verifiedProof(su *VerifiedSignup) string {
	return s.signupMAC("verified", su.Username, su.Email, strconv.FormatInt(su.Expires.Unix(), 10))
}

// checkVerifiedSignup refuses a VerifiedSignup that VerifyPasskeySignupCode did not make, or that
// has expired.
func (s *Service) checkVerifiedSignup(su VerifiedSignup) error {
	if su.Proof == "" || !hmac.Equal([]byte(su.Proof), []byte(s.verifiedProof(&su))) || !s.now().Before(su.Expires) {
		return ErrCodeExpired
	}
	return nil
}
