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
// off is the 404 of a route that is not served; the rest as fail.
func (c *call) webauthnFail(err error) *answer {
	var verr *restauth.ValidationError
	switch {
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
	var lastUsed any
	if !k.LastUsed.IsZero() {
		lastUsed = unixSeconds(k.LastUsed.UnixMicro())
	}
	return map[string]any{
		"type":            "webauthn",
		"id":              k.ID,
		"name":            k.Name,
		"created_at":      unixSeconds(k.Created.UnixMicro()),
		"last_used_at":    lastUsed,
		"is_passwordless": k.Passkey,
	}
}

// unixSeconds is a time in Unix microseconds as allauth's timestamps: seconds, a number.
func unixSeconds(micro int64) float64 { return float64(micro) / 1e6 }
