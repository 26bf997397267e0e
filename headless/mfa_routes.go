package headless

import (
	"errors"

	"github.com/restauth/restauth"
)

// codeInput is the body of the 2FA routes.
type codeInput struct {
	Code string `json:"code"`
}

// mfaAuthenticate is POST auth/2fa/authenticate: the second factor of a pending login
// (a TOTP code or a recovery code); without one pending, 401.
func (h *handler) mfaAuthenticate(c *call) *answer {
	p, pending := c.svc().SessionPendingLogin(c.ctx)
	if !pending || c.user != nil {
		return c.authAnswer(c.user)
	}
	var in codeInput
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Code == "" {
		return badRequest(required("code"))
	}
	res, err := c.svc().CompleteLogin(c.ctx, p, in.Code)
	switch {
	case errors.Is(err, restauth.ErrLoginExpired), errors.Is(err, restauth.ErrEmailNotVerified):
		c.svc().DropPendingLogin(c.ctx)
		return c.authAnswer(nil)
	case err != nil:
		return c.fail(err)
	}
	records := []restauth.AuthRecord{c.firstFactorRecord()}
	if mfa, used := c.svc().MFARecord(res); used {
		records = append(records, mfa)
	}
	return c.finishMFALogin(p, res.User, records)
}

// mfaReauthenticate is POST auth/2fa/reauthenticate: a second factor, which makes the
// session's authentication recent.
func (h *handler) mfaReauthenticate(c *call) *answer {
	var in codeInput
	return c.reauth(func() (*answer, restauth.MFAProof) {
		if a := c.decode(&in); a != nil {
			return a, restauth.MFAProof{}
		}
		if in.Code == "" {
			return badRequest(required("code")), restauth.MFAProof{}
		}
		return nil, restauth.MFAProof{Code: in.Code}
	})
}
