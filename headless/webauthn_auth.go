package headless

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// This file holds the WebAuthn authentication routes: auth/webauthn/authenticate (the
// second factor of a pending password login), auth/webauthn/reauthenticate (a key
// renews the session's authentication) and auth/webauthn/login (a passkey logs in
// alone). Each GET begins a ceremony and answers its request options; its POST finishes
// it with the browser's credential.

// Session names of the states of the assertion ceremonies.
const (
	webauthnCeremonySecondFactor = "authenticate"
	webauthnCeremonyReauth       = "reauthenticate"
	webauthnCeremonyLogin        = "login"
)

// webauthnAuthenticateOptions is GET auth/webauthn/authenticate: the request options for
// the pending login's user's keys; without a pending login, the session as it is.
func (h *handler) webauthnAuthenticateOptions(c *call) *answer {
	p, pending := c.svc().SessionPendingLogin(c.ctx)
	if !pending || c.user != nil {
		return c.authAnswer(c.user)
	}
	options, st, err := c.svc().BeginWebAuthnSecondFactor(c.ctx, p)
	if errors.Is(err, restauth.ErrLoginExpired) {
		c.svc().DropPendingLogin(c.ctx)
		return c.authAnswer(nil)
	}
	return c.webauthnOptions(webauthnCeremonySecondFactor, "request_options", options, st, err)
}

// webauthnAuthenticate is POST auth/webauthn/authenticate: the key completes the pending
// login (records the first factor, the password's unless the pending login kept another,
// and "mfa" of type "webauthn").
func (h *handler) webauthnAuthenticate(c *call) *answer {
	p, pending := c.svc().SessionPendingLogin(c.ctx)
	if !pending || c.user != nil {
		return c.authAnswer(c.user)
	}
	in, a := c.readCredential()
	if a != nil {
		return a
	}
	res, err := c.svc().CompleteLoginWithWebAuthn(c.ctx, p, c.popWebAuthnState(webauthnCeremonySecondFactor), in.Credential)
	switch {
	case errors.Is(err, restauth.ErrLoginExpired), errors.Is(err, restauth.ErrEmailNotVerified):
		c.svc().DropPendingLogin(c.ctx)
		return c.authAnswer(nil)
	case err != nil:
		return c.webauthnFail(err)
	}
	records := []restauth.AuthRecord{c.firstFactorRecord()}
	if mfa, used := c.svc().MFARecord(res); used {
		records = append(records, mfa)
	}
	return c.loginSession(res.User, records...)
}

// webauthnReauthenticateOptions is GET auth/webauthn/reauthenticate: the request options
// for the logged-in user's keys.
func (h *handler) webauthnReauthenticateOptions(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	options, st, err := c.svc().BeginWebAuthnReauthentication(c.ctx, c.user)
	return c.webauthnOptions(webauthnCeremonyReauth, "request_options", options, st, err)
}

// webauthnReauthenticate is POST auth/webauthn/reauthenticate: the key makes the session's
// authentication recent.
func (h *handler) webauthnReauthenticate(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	in, a := c.readCredential()
	if a != nil {
		return a
	}
	if _, err := c.svc().ReauthenticateSessionWithWebAuthn(c.ctx, c.user, c.popWebAuthnState(webauthnCeremonyReauth), in.Credential); err != nil {
		return c.webauthnFail(err)
	}
	return c.authAnswer(c.user)
}

// webauthnLoginOptions is GET auth/webauthn/login: request options without allowed
// credentials, so that the browser offers the site's passkeys.
func (h *handler) webauthnLoginOptions(c *call) *answer {
	options, st, err := c.svc().BeginPasskeyLogin(c.ctx)
	return c.webauthnOptions(webauthnCeremonyLogin, "request_options", options, st, err)
}

// webauthnLogin is POST auth/webauthn/login: the passkey logs its user in (200), or the
// login waits for the address's verification (401 with the pending verify_email flow);
// 409 when the session is logged in already.
func (h *handler) webauthnLogin(c *call) *answer {
	if c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	in, a := c.readCredential()
	if a != nil {
		return a
	}
	res, err := c.svc().FinishPasskeyLogin(c.ctx, c.popWebAuthnState(webauthnCeremonyLogin), in.Credential)
	switch {
	case errors.Is(err, restauth.ErrEmailNotVerified):
		c.sessions().Put(c.ctx, pendingVerifyKey, true)
		return c.authAnswer(nil)
	case err != nil:
		return c.webauthnFail(err)
	}
	var records []restauth.AuthRecord
	if mfa, used := c.svc().MFARecord(res); used {
		records = append(records, mfa)
	}
	return c.loginSession(res.User, records...)
}

// webauthnRoutes adds the WebAuthn routes to routes when Config.WebAuthn is on (passkey
// login when PasskeyLogin is too, passkey signup when PasskeySignup is); off, they are not served and answer 404, as allauth's
// are when "webauthn" is not in MFA_SUPPORTED_TYPES.
func (h *handler) webauthnRoutes(routes map[string]route) {
	f := h.svc.Features()
	if !f.MFAEnabled || !f.WebAuthn {
		return
	}
	routes["account/authenticators/webauthn"] = route{
		http.MethodGet: h.webauthnCreationOptions, http.MethodPost: h.webauthnAdd,
		http.MethodPut: h.webauthnRename, http.MethodDelete: h.webauthnRemove,
	}
	routes["auth/webauthn/authenticate"] = route{http.MethodGet: h.webauthnAuthenticateOptions, http.MethodPost: h.webauthnAuthenticate}
	routes["auth/webauthn/reauthenticate"] = route{http.MethodGet: h.webauthnReauthenticateOptions, http.MethodPost: h.webauthnReauthenticate}
	if f.PasskeyLogin {
		routes["auth/webauthn/login"] = route{http.MethodGet: h.webauthnLoginOptions, http.MethodPost: h.webauthnLogin}
	}
	if f.PasskeySignup {
		routes["auth/webauthn/signup"] = route{
			http.MethodPost: h.passkeySignupStart, http.MethodGet: h.passkeySignupOptions, http.MethodPut: h.passkeySignupComplete,
		}
	}
}

// webauthnConfig is config's mfa entries of WebAuthn: "webauthn" among the supported
// types and whether passkeys log in (allauth's passkey_login_enabled).
func webauthnConfig(f restauth.Features, mfa map[string]any) {
	if !f.WebAuthn {
		return
	}
	mfa["supported_types"] = append(mfa["supported_types"].([]string), "webauthn")
	mfa["passkey_login_enabled"] = f.PasskeyLogin
}
