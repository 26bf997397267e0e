package headless

import (
	"errors"

	"github.com/restauth/restauth"
)

// This file holds account/authenticators/webauthn: a logged-in user's WebAuthn
// credentials, added (GET the creation options, POST the credential), renamed (PUT) and
// removed (DELETE). Every operation asks for a recent authentication (the rule is the
// Service's, see BeginWebAuthnRegistration): 401 with the flows that renew it otherwise,
// as allauth's reauthentication_required answers.

// webauthnCeremonyRegister names the registration state in the session.
const webauthnCeremonyRegister = "register"

// recentUser returns the session's user, and the answer to give an anonymous session
// (401). Whether their authentication is recent is the operation's to tell
// (ErrReauthenticationRequired, answered by webauthnFail).
func (c *call) recentUser() (*restauth.User, *answer) {
	if c.user == nil {
		return nil, c.authAnswer(nil)
	}
	return c.user, nil
}

// webauthnCreationOptions is GET account/authenticators/webauthn: the options for
// navigator.credentials.create; with the passwordless query parameter (any value) the
// credential is a passkey.
func (h *handler) webauthnCreationOptions(c *call) *answer {
	u, a := c.recentUser()
	if a != nil {
		return a
	}
	options, st, err := c.svc().BeginWebAuthnRegistration(c.ctx, u, c.r.URL.Query().Has("passwordless"))
	return c.webauthnOptions(webauthnCeremonyRegister, "creation_options", options, st, err)
}

// webauthnAdd is POST account/authenticators/webauthn: the credential the browser made
// for the options, stored under its name; meta.recovery_codes_generated tells whether it
// was the first authenticator, which made the account's recovery codes.
func (h *handler) webauthnAdd(c *call) *answer {
	u, a := c.recentUser()
	if a != nil {
		return a
	}
	in, a := c.readCredential()
	if a != nil {
		return a
	}
	added, err := c.svc().FinishWebAuthnRegistration(c.ctx, u, c.popWebAuthnState(webauthnCeremonyRegister), in.Name, in.Credential)
	if err != nil {
		return c.webauthnFail(err)
	}
	res := ok(webauthnAuthenticator(added.Credential))
	res.meta = map[string]any{"recovery_codes_generated": len(added.RecoveryCodes) > 0}
	return res
}

// webauthnRename is PUT account/authenticators/webauthn: {id, name}.
func (h *handler) webauthnRename(c *call) *answer {
	u, a := c.recentUser()
	if a != nil {
		return a
	}
	var in struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.ID == 0 {
		return badRequest(required("id"))
	}
	k, err := c.svc().RenameWebAuthnCredential(c.ctx, u, in.ID, in.Name)
	if errors.Is(err, restauth.ErrNotFound) {
		return badRequest(apiError{Code: "invalid", Param: "id", Message: "Invalid authenticator."})
	}
	if err != nil {
		return c.webauthnFail(err)
	}
	return ok(webauthnAuthenticator(k))
}

// webauthnRemove is DELETE account/authenticators/webauthn: {authenticators: [id, …]},
// all or none.
func (h *handler) webauthnRemove(c *call) *answer {
	u, a := c.recentUser()
	if a != nil {
		return a
	}
	var in struct {
		Authenticators []int64 `json:"authenticators"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	if len(in.Authenticators) == 0 {
		return badRequest(required("authenticators"))
	}
	err := c.svc().RemoveWebAuthnCredentials(c.ctx, u, in.Authenticators)
	if errors.Is(err, restauth.ErrNotFound) {
		return badRequest(apiError{Code: "invalid", Param: "authenticators", Message: "Invalid authenticator."})
	}
	if err != nil {
		return c.webauthnFail(err)
	}
	return ok(nil)
}
