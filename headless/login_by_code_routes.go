package headless

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// This file serves allauth's login by code (auth/code/*): the request mails a code and
// starts the pending login_by_code flow, the confirm logs in with it (or hands over to
// the second factor), the resend mails a new one. The PendingCode stays in the session.

// codeRequest is POST auth/code/request: a code is mailed; 401 with the pending
// login_by_code flow, whether or not an account holds the address.
func (h *handler) codeRequest(c *call) *answer {
	if !c.svc().Features().LoginByCode {
		return statusOnly(http.StatusNotFound)
	}
	if c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	var in struct {
		Email string `json:"email"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Email == "" {
		return badRequest(required("email"))
	}
	p, err := c.svc().RequestLoginCode(c.ctx, in.Email)
	if err != nil {
		return c.fail(err)
	}
	if a := c.putPendingCode(pendingLoginCodeKey, p); a != nil {
		return a
	}
	return c.authAnswer(nil)
}

// codeConfirm is POST auth/code/confirm: the mailed code logs the user in (200), or the
// second factor is due (401 with the pending mfa_authenticate flow). A wrong code is 400;
// once its attempts are used up (or it expired) the flow ends: 409, as without one.
func (h *handler) codeConfirm(c *call) *answer {
	p, pending := c.pendingCode(pendingLoginCodeKey)
	if !pending || c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	var in codeInput
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Code == "" {
		return badRequest(required("code"))
	}
	res, err := c.svc().ConfirmLoginCode(c.ctx, restauth.LoginCodeConfirm{Pending: p, Code: in.Code, MFATrust: c.mfaTrustCookie()})
	switch {
	case errors.Is(err, restauth.ErrEmailNotVerified):
		c.dropPendingCode(pendingLoginCodeKey)
		c.sessions().Put(c.ctx, pendingVerifyKey, true)
		return c.authAnswer(nil)
	case err != nil:
		return c.codeFailure(pendingLoginCodeKey, err, func() *answer { return statusOnly(http.StatusConflict) })
	}
	c.dropPendingCode(pendingLoginCodeKey)
	rec := c.svc().NewAuthRecord("code")
	rec.Email = p.Email
	if res.Pending != nil {
		return c.pendSecondFactor(*res.Pending, rec)
	}
	records := []restauth.AuthRecord{rec}
	if mfa, used := c.svc().MFARecord(res); used {
		records = append(records, mfa)
	}
	return c.loginSession(res.User, records...)
}

// firstFactorKey holds, in the session, the authentication record of the first factor of
// a pending login that was not the password (a mailed code, a provider login), for the
// second factor's to follow.
const firstFactorKey = "_headless_first_factor"

// pendSecondFactor keeps a login whose second factor is due in the session, with the
// record of its first factor, and answers the pending mfa_authenticate flow (401).
func (c *call) pendSecondFactor(p restauth.PendingLogin, first restauth.AuthRecord) *answer {
	if err := c.svc().PutPendingLogin(c.ctx, p); err != nil {
		return c.fail(err)
	}
	raw, err := json.Marshal(first)
	if err != nil {
		return c.fail(err)
	}
	c.sessions().Put(c.ctx, firstFactorKey, string(raw))
	return c.authAnswer(nil)
}

// firstFactorRecord is the record of the first factor of the session's pending login:
// the one pendSecondFactor kept, else the password's.
func (c *call) firstFactorRecord() restauth.AuthRecord {
	var rec restauth.AuthRecord
	raw := c.sessions().PopString(c.ctx, firstFactorKey)
	if raw == "" || json.Unmarshal([]byte(raw), &rec) != nil || rec.Method == "" {
		return c.svc().NewAuthRecord("password")
	}
	return rec
}

// codeResend is POST auth/code/resend: a new code for the pending flow (200); 409
// without one.
func (h *handler) codeResend(c *call) *answer {
	p, pending := c.pendingCode(pendingLoginCodeKey)
	if !pending || c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	next, err := c.svc().ResendLoginCode(c.ctx, p)
	if err != nil {
		return c.codeFailure(pendingLoginCodeKey, err, func() *answer { return statusOnly(http.StatusConflict) })
	}
	if a := c.putPendingCode(pendingLoginCodeKey, next); a != nil {
		return a
	}
	return statusOnly(http.StatusOK)
}
