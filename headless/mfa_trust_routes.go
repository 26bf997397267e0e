package headless

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/restauth/restauth"
)

// This file serves allauth's "trust this browser" (MFA_TRUST_ENABLED): after a browser
// login passed its second factor, the login stays pending in the mfa_trust flow until
// POST auth/2fa/trust answers whether to trust the browser; trusted, the browser gets the
// trust cookie (a signed, expiring token of the core's IssueMFATrust), which its next
// login hands to the core (LoginRequest.MFATrust) to skip the second factor. The app
// client has no cookies, so no trust stage, as in allauth.

// mfaTrustCookieName is allauth's MFA_TRUST_COOKIE_NAME.
const mfaTrustCookieName = "mfa_trusted"

// pendingTrustKey holds, in the session, the login waiting for the trust answer.
const pendingTrustKey = "_headless_pending_mfa_trust"

// pendingTrust is a login whose second factor passed, waiting for the trust answer.
type pendingTrust struct {
	UserID  int64                 `json:"user_id"`
	Records []restauth.AuthRecord `json:"records"`
	Expires time.Time             `json:"expires"`
}

// mfaTrustCookie is the trust token the browser holds, "" for none (and for the app).
func (c *call) mfaTrustCookie() string {
	if c.client != Browser {
		return ""
	}
	ck, err := c.r.Cookie(mfaTrustCookieName)
	if err != nil {
		return ""
	}
	return ck.Value
}

// finishMFALogin ends a login whose second factor just passed: with trust on, a browser
// login waits in the mfa_trust flow (401) until it answers; else it is logged in.
func (c *call) finishMFALogin(p restauth.PendingLogin, u *restauth.User, records []restauth.AuthRecord) *answer {
	if c.client != Browser || !c.svc().Features().MFATrust {
		return c.loginSession(u, records...)
	}
	raw, err := json.Marshal(pendingTrust{UserID: u.ID, Records: records, Expires: p.Expires})
	if err != nil {
		return c.fail(err)
	}
	c.svc().DropPendingLogin(c.ctx)
	c.sessions().Put(c.ctx, pendingTrustKey, string(raw))
	return c.authAnswer(nil)
}

// pendingMFATrust returns the login waiting for the trust answer, if any and unexpired.
func (c *call) pendingMFATrust() (pendingTrust, bool) {
	var p pendingTrust
	raw := c.sessions().GetString(c.ctx, pendingTrustKey)
	if raw == "" || json.Unmarshal([]byte(raw), &p) != nil || !c.svc().Now().Before(p.Expires) {
		return pendingTrust{}, false
	}
	return p, true
}

// trustFlows lists the pending mfa_trust flow of an anonymous session.
func (c *call) trustFlows() []flow {
	if _, ok := c.pendingMFATrust(); ok {
		return []flow{{ID: "mfa_trust", IsPending: true}}
	}
	return nil
}

// mfaTrust is POST auth/2fa/trust: the pending login is logged in (200), and with
// trust true the browser gets the trust cookie; without a pending one, 409. The route is
// the browser's, with trust on: otherwise 404, as allauth serves it only then.
func (h *handler) mfaTrust(c *call) *answer {
	if c.client != Browser || !c.svc().Features().MFATrust {
		return statusOnly(http.StatusNotFound)
	}
	p, pending := c.pendingMFATrust()
	if !pending || c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	var in struct {
		Trust *bool `json:"trust"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Trust == nil {
		return badRequest(required("trust"))
	}
	c.sessions().Remove(c.ctx, pendingTrustKey)
	u, err := c.svc().User(c.ctx, p.UserID)
	if err != nil || !u.IsActive {
		if err == nil || errors.Is(err, restauth.ErrNotFound) {
			return c.authAnswer(nil)
		}
		return c.fail(err)
	}
	if *in.Trust {
		token, expires, err := c.svc().IssueMFATrust(c.ctx, u)
		switch {
		case errors.Is(err, restauth.ErrNotFound):
			// The authenticator was removed meanwhile: nothing to trust, the login stands.
			return c.loginSession(u, p.Records...)
		case err != nil:
			return c.fail(err)
		}
		http.SetCookie(c.w, &http.Cookie{
			Name: mfaTrustCookieName, Value: token, Path: "/", Expires: expires,
			MaxAge: int(expires.Sub(c.svc().Now()).Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
			// Secure as the session cookie (an https SiteURL), also behind a proxy that
			// ends TLS, where the request itself comes in plain http.
			Secure: c.sessions().Cookie.Secure || c.r.TLS != nil,
		})
	}
	return c.loginSession(u, p.Records...)
}
