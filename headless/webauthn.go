package headless

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// This file holds what the headless WebAuthn routes share: the ceremony state kept in the
// session between a GET (the options) and its POST (the browser's credential), the
// options answers, the credential input, and the errors of a refused credential.

// webauthnStateKey is the session key of a ceremony's state. The state lives in the
// session (the browser's, or the app client's named by its token), server-side: it never
// travels in a cookie or a body.
func webauthnStateKey(ceremony string) string { return "_headless_webauthn_" + ceremony }

// putWebAuthnState keeps the state of a ceremony just begun, replacing an older one.
func (c *call) putWebAuthnState(ceremony string, st restauth.WebAuthnState) {
	c.sessions().Put(c.ctx, webauthnStateKey(ceremony), string(st))
}

// popWebAuthnState takes the state of a ceremony out of the session: a state is answered
// once ("" when none, which the Finish operation refuses as expired).
func (c *call) popWebAuthnState(ceremony string) restauth.WebAuthnState {
	return restauth.WebAuthnState(c.sessions().PopString(c.ctx, webauthnStateKey(ceremony)))
}

// webauthnOptions answers the options of a ceremony begun (key "request_options" or
// "creation_options") after keeping its state; the app client gets its session token in
// meta when the state started its session.
func (c *call) webauthnOptions(ceremony, key string, options json.RawMessage, st restauth.WebAuthnState, err error) *answer {
	if err != nil {
		return c.webauthnFail(err)
	}
	c.putWebAuthnState(ceremony, st)
	a := ok(map[string]any{key: options})
	if c.client == App {
		a.meta = map[string]any{}
	}
	return a
}

// credentialInput is the body of the WebAuthn POSTs: the browser's PublicKeyCredential
// (as JSON) and, when adding one, its name.
type credentialInput struct {
	Credential json.RawMessage `json:"credential"`
	Name       string          `json:"name"`
}

// readCredential decodes a credentialInput; a missing credential is a 400.
func (c *call) readCredential() (credentialInput, *answer) {
	var in credentialInput
	if a := c.decode(&in); a != nil {
		return in, a
	}
	if len(in.Credential) == 0 || string(in.Credential) == "null" {
		return in, badRequest(required("credential"))
	}
	return in, nil
}

// webauthnFail answers a WebAuthn operation's error: a refused credential (or an
// expired or used challenge) is allauth's incorrect_code on "credential"; WebAuthn turned
// off is the 404 of a route that is not served; a session that is not recent is asked to
// reauthenticate (401); the rest as fail.
func (c *call) webauthnFail(err error) *answer {
	var verr *restauth.ValidationError
	switch {
	case errors.Is(err, restauth.ErrReauthenticationRequired) && c.user != nil:
		return c.reauthRequired(c.user)
	case errors.Is(err, restauth.ErrWebAuthnChallengeExpired), errors.As(err, &verr) && errors.Is(err, restauth.ErrWebAuthnRefused):
		return badRequest(apiError{Code: "incorrect_code", Param: "credential", Message: "Incorrect code."})
	case errors.Is(err, restauth.ErrWebAuthnDisabled), errors.Is(err, restauth.ErrPasskeyLoginDisabled), errors.Is(err, restauth.ErrPasskeySignupDisabled):
		return statusOnly(http.StatusNotFound)
	}
	return c.fail(err)
}

// webauthnAuthenticator renders one WebAuthn credential as allauth's WebAuthnAuthenticator,
// for account/authenticators/webauthn and the account/authenticators list.
func webauthnAuthenticator(k *restauth.WebAuthnCredential) map[string]any {
	return map[string]any{
		"type":            "webauthn",
		"id":              k.ID,
		"name":            k.Name,
		"created_at":      timestamp(k.Created),
		"last_used_at":    timestamp(k.LastUsed),
		"is_passwordless": k.Passkey,
	}
}

// appendWebAuthnAuthenticators adds the user's WebAuthn credentials to the
// account/authenticators list, and their recovery codes when no TOTP device listed them
// already (withTOTP): a key is an authenticator the codes come with, as TOTP is.
func (c *call) appendWebAuthnAuthenticators(out []map[string]any, withTOTP bool) ([]map[string]any, error) {
	if !c.svc().Features().WebAuthn {
		return out, nil
	}
	keys, err := c.svc().ListWebAuthnCredentials(c.ctx, c.user.ID)
	if err != nil || len(keys) == 0 {
		return out, err
	}
	for i := range keys {
		out = append(out, webauthnAuthenticator(&keys[i]))
	}
	if withTOTP {
		return out, nil
	}
	rc, err := c.svc().RecoveryCodesStatus(c.ctx, c.user.ID)
	if err != nil || rc.Total == 0 {
		return out, err
	}
	first := keys[0].Created
	for _, k := range keys {
		if k.Created.Before(first) {
			first = k.Created
		}
	}
	return append(out, recoveryData(rc, first)), nil
}
