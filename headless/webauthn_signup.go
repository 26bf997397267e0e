package headless

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// This file holds auth/webauthn/signup, allauth's passkey signup: POST the address (and
// username) starts it and mails a code (401, verify_email pending); auth/email/verify with
// that code verifies the address (401, mfa_signup_webauthn pending; auth/email/verify/resend
// mails a new one; GET auth/email/verify shows whom the code is for); GET answers the
// creation options and PUT the passkey creates the account and logs it in (200). The
// rules are the Service's (RequestPasskeySignupCode, CheckPasskeySignupCode, VerifyPasskeySignupCode,
// BeginPasskeySignup, FinishPasskeySignup); the session keeps the pending signup, then
// the verified one, server side.

// Session keys of a passkey signup: the code mailed (PendingPasskeySignup), then the
// verified signup (VerifiedSignup).
const (
	passkeySignupCodeKey = "_headless_passkey_signup_code"
	passkeySignupKey     = "_headless_passkey_signup"
)

// webauthnCeremonySignup names the signup's registration state in the session.
const webauthnCeremonySignup = "signup"

// putJSON keeps v in the session under key, as JSON.
func (c *call) putJSON(key string, v any) *answer {
	raw, err := json.Marshal(v)
	if err != nil {
		return c.fail(err)
	}
	c.sessions().Put(c.ctx, key, string(raw))
	return nil
}

// getJSON reads what putJSON kept under key into v; false when there is none.
func (c *call) getJSON(key string, v any) bool {
	raw := c.sessions().GetString(c.ctx, key)
	return raw != "" && json.Unmarshal([]byte(raw), v) == nil
}

// passkeySignupStart is POST auth/webauthn/signup: {email, username}. The code is mailed
// and the verify_email flow is pending (401); 403 while signup is closed, 409 when logged
// in. An address held by another account answers the same (enumeration prevention is the
// Service's).
func (h *handler) passkeySignupStart(c *call) *answer {
	if c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	if !c.svc().Features().RegistrationOpen {
		return statusOnly(http.StatusForbidden)
	}
	var in struct {
		Email    string `json:"email"`
		Username string `json:"username"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	p, err := c.svc().RequestPasskeySignupCode(c.ctx, restauth.PasskeySignupRequest{Username: in.Username, Email: in.Email})
	switch {
	case errors.Is(err, restauth.ErrRegistrationClosed):
		return statusOnly(http.StatusForbidden)
	case err != nil:
		return c.webauthnFail(err)
	}
	if a := c.putJSON(passkeySignupCodeKey, p); a != nil {
		return a
	}
	c.sessions().Remove(c.ctx, passkeySignupKey)
	c.dropPendingCode(pendingVerifyCodeKey)
	c.sessions().Put(c.ctx, pendingVerifyKey, true)
	return c.authAnswer(nil)
}

// passkeySignupVerify is auth/email/verify (POST) while a passkey signup waits for its
// code; ok false when none does. A wrong code is 400; a void one ends the signup (409);
// the right one leaves mfa_signup_webauthn pending (401).
func (h *handler) passkeySignupVerify(c *call, code string) (a *answer, ok bool) {
	var p restauth.PendingPasskeySignup
	if !c.getJSON(passkeySignupCodeKey, &p) {
		return nil, false
	}
	su, err := c.svc().VerifyPasskeySignupCode(c.ctx, p, code)
	if err != nil {
		return c.signupCodeFailed(err), true
	}
	c.endSignupCode()
	if a := c.putJSON(passkeySignupKey, su); a != nil {
		return a, true
	}
	return c.authAnswer(nil), true
}

// signupCodeFailed answers a refused passkey-signup code: a wrong one is 400, a void one
// (expired, attempts used up, altered) ends the signup with 409.
func (c *call) signupCodeFailed(err error) *answer {
	switch {
	case errors.Is(err, restauth.ErrInvalidCode):
		return badRequest(apiError{Code: "incorrect_code", Param: "key", Message: "Incorrect code."})
	case errors.Is(err, restauth.ErrCodeExpired):
		c.endSignupCode()
		return statusOnly(http.StatusConflict)
	}
	return c.webauthnFail(err)
}

// passkeySignupInfo is GET auth/email/verify while a passkey signup waits for its code
// (X-Email-Verification-Key); ok false when none does. As allauth answers its
// verify_email stage of a passkey signup: 200 with the address and the signing-up user,
// is_authenticating true; a wrong code is 400 (one of its attempts); a void one ends the
// signup (409). The code stays for the POST. The account is only made with the passkey
// here (allauth has saved it by now), so the user has no id yet: the rest of allauth's
// user object (display, has_usable_password false, email, username) is answered.
func (h *handler) passkeySignupInfo(c *call) (a *answer, ok bool) {
	var p restauth.PendingPasskeySignup
	if !c.getJSON(passkeySignupCodeKey, &p) {
		return nil, false
	}
	su, err := c.svc().CheckPasskeySignupCode(c.ctx, p, c.r.Header.Get(emailVerificationKeyHeader))
	if err != nil {
		return c.signupCodeFailed(err), true
	}
	user := map[string]any{"display": su.Username, "has_usable_password": false, "email": su.Email}
	if su.Username != "" {
		user["username"] = su.Username
	}
	return &answer{
		status: http.StatusOK,
		data:   map[string]any{"email": su.Email, "user": user},
		meta:   map[string]any{"is_authenticating": true},
	}, true
}

// endSignupCode ends the signup's wait for its code (the verify_email flow).
func (c *call) endSignupCode() {
	c.sessions().Remove(c.ctx, passkeySignupCodeKey)
	c.sessions().Remove(c.ctx, pendingVerifyKey)
}

// passkeySignupResend is auth/email/verify/resend while a passkey signup waits for its
// code: a new code (200), 429 past the resend limit; ok false when no signup waits.
func (h *handler) passkeySignupResend(c *call) (a *answer, ok bool) {
	var p restauth.PendingPasskeySignup
	if !c.getJSON(passkeySignupCodeKey, &p) {
		return nil, false
	}
	next, err := c.svc().ResendPasskeySignupCode(c.ctx, p)
	switch {
	case errors.Is(err, restauth.ErrCodeExpired):
		c.endSignupCode()
		return statusOnly(http.StatusConflict), true
	case err != nil:
		return c.webauthnFail(err), true
	}
	if a := c.putJSON(passkeySignupCodeKey, next); a != nil {
		return a, true
	}
	return statusOnly(http.StatusOK), true
}

// verifiedSignup returns the session's verified passkey signup, false when none is pending.
func (c *call) verifiedSignup() (restauth.VerifiedSignup, bool) {
	var su restauth.VerifiedSignup
	if c.user != nil || !c.getJSON(passkeySignupKey, &su) || !c.svc().Now().Before(su.Expires) {
		return restauth.VerifiedSignup{}, false
	}
	return su, true
}

// webauthnFlows are the WebAuthn flows of an anonymous session, as allauth lists them:
// mfa_login_webauthn while passkeys log in, and the pending mfa_signup_webauthn of a
// passkey signup whose address is verified.
func (c *call) webauthnFlows() []flow {
	var flows []flow
	if f := c.svc().Features(); f.MFAEnabled && f.PasskeyLogin {
		flows = append(flows, flow{ID: "mfa_login_webauthn"})
	}
	if _, ok := c.verifiedSignup(); ok {
		flows = append(flows, flow{ID: "mfa_signup_webauthn", IsPending: true})
	}
	return flows
}

// passkeySignupOptions is GET auth/webauthn/signup: the creation options of the passkey;
// 409 when no verified signup is pending.
func (h *handler) passkeySignupOptions(c *call) *answer {
	su, ok := c.verifiedSignup()
	if !ok {
		return statusOnly(http.StatusConflict)
	}
	options, st, err := c.svc().BeginPasskeySignup(c.ctx, su)
	if errors.Is(err, restauth.ErrCodeExpired) {
		c.sessions().Remove(c.ctx, passkeySignupKey)
		return statusOnly(http.StatusConflict)
	}
	return c.webauthnOptions(webauthnCeremonySignup, "creation_options", options, st, err)
}

// passkeySignupComplete is PUT auth/webauthn/signup: {name, credential}, the passkey made
// for the options; the account is created and logged in (200). 409 when no verified
// signup is pending.
func (h *handler) passkeySignupComplete(c *call) *answer {
	if _, ok := c.verifiedSignup(); !ok {
		return statusOnly(http.StatusConflict)
	}
	in, a := c.readCredential()
	if a != nil {
		return a
	}
	res, err := c.svc().FinishPasskeySignup(c.ctx, c.popWebAuthnState(webauthnCeremonySignup), in.Name, in.Credential)
	if err != nil {
		return c.webauthnFail(err)
	}
	c.sessions().Remove(c.ctx, passkeySignupKey)
	rec := c.svc().NewAuthRecord("mfa")
	rec.Type = "webauthn"
	return c.loginSession(res.User, rec)
}
