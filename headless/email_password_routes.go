package headless

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// Keys travel in these headers on GET (allauth's).
const (
	passwordResetKeyHeader     = "X-Password-Reset-Key"
	emailVerificationKeyHeader = "X-Email-Verification-Key"
)

// invalidResetKey is allauth's refusal of a reset key.
func invalidResetKey() *answer {
	return badRequest(apiError{Code: "token_invalid", Param: "key", Message: "The password reset token was invalid."})
}

// invalidVerificationKey is allauth's refusal of a confirmation key.
func invalidVerificationKey() *answer {
	return badRequest(apiError{Code: "invalid", Param: "key", Message: "Invalid or expired key."})
}

// isKeyError reports whether a reset operation refused the key (its uid or its token).
func isKeyError(err error) bool {
	var verr *restauth.ValidationError
	return errors.As(err, &verr) && (verr.Fields["uid"] != nil || verr.Fields["token"] != nil)
}

// passwordRequest is POST auth/password/request: a reset link is mailed (200 whether or
// not the address is known).
func (h *handler) passwordRequest(c *call) *answer {
	var in struct {
		Email string `json:"email"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Email == "" {
		return badRequest(required("email"))
	}
	if c.svc().Features().PasswordResetByCode {
		return h.passwordRequestByCode(c, in.Email)
	}
	if err := c.svc().RequestPasswordReset(c.ctx, in.Email); err != nil {
		return c.fail(err)
	}
	return statusOnly(http.StatusOK)
}

// passwordResetInfo is GET auth/password/reset: the key (X-Password-Reset-Key) checked,
// and the user it resets.
func (h *handler) passwordResetInfo(c *call) *answer {
	if c.svc().Features().PasswordResetByCode {
		return h.passwordResetInfoByCode(c, c.r.Header.Get(passwordResetKeyHeader))
	}
	u, err := c.svc().PasswordResetUser(c.ctx, c.r.Header.Get(passwordResetKeyHeader))
	if isKeyError(err) {
		return invalidResetKey()
	}
	if err != nil {
		return c.fail(err)
	}
	return ok(map[string]any{"user": userData(u)})
}

// passwordReset is POST auth/password/reset: the new password set by key. The user is
// not logged in (allauth's ACCOUNT_LOGIN_ON_PASSWORD_RESET off): 401 is the success.
func (h *handler) passwordReset(c *call) *answer {
	var in struct {
		Key      string `json:"key"`
		Password string `json:"password"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	var errs []apiError
	if in.Key == "" {
		errs = append(errs, required("key"))
	}
	if in.Password == "" {
		errs = append(errs, required("password"))
	}
	if errs != nil {
		return badRequest(errs...)
	}
	if c.svc().Features().PasswordResetByCode {
		return h.passwordResetByCode(c, in.Key, in.Password)
	}
	_, err := c.svc().ConfirmPasswordReset(c.ctx, restauth.PasswordResetConfirm{Key: in.Key, New1: in.Password, New2: in.Password})
	if isKeyError(err) {
		return invalidResetKey()
	}
	if err != nil {
		return c.fail(err)
	}
	// A session of the user's is logged out by the new password (its auth hash).
	u, err := c.svc().SessionUser(c.ctx)
	if err != nil {
		return c.fail(err)
	}
	return c.authAnswer(u)
}

// emailVerifyInfo is GET auth/email/verify: the key (X-Email-Verification-Key) checked,
// and the address and user it verifies. A passkey signup waiting for its code comes
// first, as at the POST: its code is the key then, whichever way other addresses verify.
func (h *handler) emailVerifyInfo(c *call) *answer {
	if a, ok := h.passkeySignupInfo(c); ok {
		return a
	}
	if c.svc().Features().EmailVerificationByCode {
		return h.emailVerifyInfoByCode(c)
	}
	addr, err := c.svc().ConfirmationAddress(c.ctx, c.r.Header.Get(emailVerificationKeyHeader))
	if errors.Is(err, restauth.ErrNotFound) {
		return invalidVerificationKey()
	}
	if err != nil {
		return c.fail(err)
	}
	u, err := c.svc().User(c.ctx, addr.UserID)
	if errors.Is(err, restauth.ErrNotFound) {
		return invalidVerificationKey()
	}
	if err != nil {
		return c.fail(err)
	}
	return &answer{
		status: http.StatusOK,
		data:   map[string]any{"email": addr.Email, "user": userData(u)},
		meta:   map[string]any{"is_authenticating": c.sessions().GetBool(c.ctx, pendingVerifyKey)},
	}
}

// emailVerify is POST auth/email/verify: the address verified by key. The pending
// verify_email flow ends; the user then logs in (401), or stays logged in (200).
func (h *handler) emailVerify(c *call) *answer {
	var in struct {
		Key string `json:"key"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Key == "" {
		return badRequest(required("key"))
	}
	if a, ok := h.passkeySignupVerify(c, in.Key); ok {
		return a
	}
	if c.svc().Features().EmailVerificationByCode {
		return h.emailVerifyByCode(c, in.Key)
	}
	_, err := c.svc().VerifyEmail(c.ctx, in.Key)
	if errors.Is(err, restauth.ErrNotFound) {
		return invalidVerificationKey()
	}
	if err != nil && !errors.Is(err, restauth.ErrConflict) {
		return c.fail(err)
	}
	c.sessions().Remove(c.ctx, pendingVerifyKey)
	return c.authAnswer(c.user)
}

// emailVerifyResend is POST auth/email/verify/resend: only verification by code has a
// flow to resend (emailVerifyResendByCode); by link, allauth's answer is 409.
func (h *handler) emailVerifyResend(c *call) *answer {
	if a, ok := h.passkeySignupResend(c); ok {
		return a
	}
	return h.emailVerifyResendByCode(c)
}
