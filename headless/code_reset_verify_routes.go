package headless

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// This file serves password reset by code and e-mail verification by code (allauth's
// ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED and ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED):
// the same routes as by key, with the mailed code as the key, kept pending in the session
// (password_reset_by_code, verify_email). The by-key handlers hand over here when the
// Config turns the code on.

// passwordRequestByCode is POST auth/password/request by code: a code is mailed and the
// password_reset_by_code flow is pending (401), whether or not the address is known.
func (h *handler) passwordRequestByCode(c *call, email string) *answer {
	p, err := c.svc().RequestPasswordResetCode(c.ctx, email)
	if err != nil {
		return c.fail(err)
	}
	if a := c.putPendingCode(pendingResetCodeKey, p); a != nil {
		return a
	}
	return c.authAnswer(c.user)
}

// resetCodeRefused answers a refused reset code: allauth's invalid key, or 409 once the
// flow has ended.
func (c *call) resetCodeRefused(err error) *answer {
	if errors.Is(err, restauth.ErrInvalidCode) {
		return invalidResetKey()
	}
	return c.codeFailure(pendingResetCodeKey, err, func() *answer { return statusOnly(http.StatusConflict) })
}

// passwordResetInfoByCode is GET auth/password/reset by code: the code (as the key)
// checked, one of its attempts, and the user it resets; 409 without a pending flow.
func (h *handler) passwordResetInfoByCode(c *call, code string) *answer {
	p, pending := c.pendingCode(pendingResetCodeKey)
	if !pending {
		return statusOnly(http.StatusConflict)
	}
	u, err := c.svc().CheckPasswordResetCode(c.ctx, p, code)
	if err != nil {
		return c.resetCodeRefused(err)
	}
	return ok(map[string]any{"user": userData(u)})
}

// passwordResetByCode is POST auth/password/reset by code: the new password set with
// the code as the key; the flow ends and the user logs in afresh (401).
func (h *handler) passwordResetByCode(c *call, code, password string) *answer {
	p, pending := c.pendingCode(pendingResetCodeKey)
	if !pending {
		return statusOnly(http.StatusConflict)
	}
	if _, err := c.svc().ResetPasswordWithCode(c.ctx, p, code, password, password); err != nil {
		var verr *restauth.ValidationError
		if errors.As(err, &verr) && !errors.Is(err, restauth.ErrInvalidCode) {
			return c.fail(err)
		}
		return c.resetCodeRefused(err)
	}
	c.dropPendingCode(pendingResetCodeKey)
	u, err := c.svc().SessionUser(c.ctx)
	if err != nil {
		return c.fail(err)
	}
	return c.authAnswer(u)
}

// keepVerificationCode keeps the code a signup mailed (RegisterResult.VerificationCode, a
// decoy for a concealed refusal) pending in the session: the verify_email flow by code.
func (c *call) keepVerificationCode(res *restauth.RegisterResult) *answer {
	if res.VerificationCode == nil {
		return nil
	}
	return c.putPendingCode(pendingVerifyCodeKey, res.VerificationCode)
}

// emailVerifyInfoByCode is GET auth/email/verify by code, as allauth answers it: the code
// (X-Email-Verification-Key, as the key) checked, one of its attempts, then the pending
// verification's address and user; a wrong code is 400, and 409 without a pending
// verification or once its attempts are used up. A concealed signup's decoy answers as a
// wrong code, as a real signup's does to anyone without the mail.
func (h *handler) emailVerifyInfoByCode(c *call) *answer {
	p, pending := c.pendingCode(pendingVerifyCodeKey)
	if !pending {
		return statusOnly(http.StatusConflict)
	}
	addr, u, err := c.svc().CheckEmailVerificationCode(c.ctx, p, c.r.Header.Get(emailVerificationKeyHeader))
	if errors.Is(err, restauth.ErrInvalidCode) {
		return badRequest(apiError{Code: "incorrect_code", Param: "key", Message: "Incorrect code."})
	}
	if err != nil {
		return c.codeFailure(pendingVerifyCodeKey, err, func() *answer {
			c.sessions().Remove(c.ctx, pendingVerifyKey)
			return statusOnly(http.StatusConflict)
		})
	}
	return &answer{
		status: http.StatusOK,
		data:   map[string]any{"email": addr.Email, "user": userData(u)},
		meta:   map[string]any{"is_authenticating": c.sessions().GetBool(c.ctx, pendingVerifyKey)},
	}
}

// emailVerifyByCode is POST auth/email/verify by code: the address verified with the
// code as the key; the verify_email flow ends (401: the user then logs in, or 200 when
// logged in). A wrong code is 400; a void one ends the flow (409).
func (h *handler) emailVerifyByCode(c *call, code string) *answer {
	p, pending := c.pendingCode(pendingVerifyCodeKey)
	if !pending {
		return statusOnly(http.StatusConflict)
	}
	_, err := c.svc().VerifyEmailCode(c.ctx, p, code)
	if errors.Is(err, restauth.ErrInvalidCode) {
		return badRequest(apiError{Code: "incorrect_code", Param: "key", Message: "Incorrect code."})
	}
	if err != nil && !errors.Is(err, restauth.ErrConflict) {
		return c.codeFailure(pendingVerifyCodeKey, err, func() *answer {
			c.sessions().Remove(c.ctx, pendingVerifyKey)
			return statusOnly(http.StatusConflict)
		})
	}
	c.dropPendingCode(pendingVerifyCodeKey)
	c.sessions().Remove(c.ctx, pendingVerifyKey)
	return c.authAnswer(c.user)
}

// emailVerifyResendByCode is POST auth/email/verify/resend: a new code for the pending
// verification (200); 409 without one, 429 past the resend limit.
func (h *handler) emailVerifyResendByCode(c *call) *answer {
	p, pending := c.pendingCode(pendingVerifyCodeKey)
	if !pending || !c.svc().Features().EmailVerificationByCode {
		return statusOnly(http.StatusConflict)
	}
	next, err := c.svc().ResendEmailVerificationCode(c.ctx, p)
	if errors.Is(err, restauth.ErrNotFound) {
		c.dropPendingCode(pendingVerifyCodeKey)
		return statusOnly(http.StatusConflict)
	}
	if err != nil {
		return c.fail(err)
	}
	if a := c.putPendingCode(pendingVerifyCodeKey, next); a != nil {
		return a
	}
	return statusOnly(http.StatusOK)
}
