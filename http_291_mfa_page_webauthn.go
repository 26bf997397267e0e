package restauth

import (
	"errors"
	"net/http"
	"slices"

	"github.com/restauth/restauth/internal/pages"
)

// This file offers a user's WebAuthn credentials on the second-factor page (login/mfa/):
// the 291 dialect has no WebAuthn routes, but a user whose only second factor is a key
// must still finish a login. When the pending login's user has a key, the page carries the
// assertion options of BeginWebAuthnSecondFactor and a small script (internal/pages) that
// asks the browser for an assertion and posts it in the credential field of a form
// protected like the code's (csrfmiddlewaretoken, origin check). The rules, limits and
// events are CompleteLoginWithWebAuthn's. The ceremony's state stays in the session.

// mfaCredentialField is the page's field of the browser's assertion (PublicKeyCredential
// as JSON).
const mfaCredentialField = "credential"

// sessionMFAPageWebAuthnKey keeps the state of the page's WebAuthn ceremony.
const sessionMFAPageWebAuthnKey = "_mfa_page_webauthn_state"

// msgMFAPageKeyRefused is the page's error for an assertion that was not accepted.
const msgMFAPageKeyRefused = "The security key was not accepted. Please try again."

// offerWebAuthn adds the user's keys to page when the pending login's user has one: the
// types are the operation's (PendingLoginTypes), the options BeginWebAuthnSecondFactor's,
// whose state replaces any earlier one in the session. A login that cannot offer a key
// (gone, WebAuthn off) keeps the code form alone.
func (d *api291) offerWebAuthn(r *http.Request, p PendingLogin, page *pages.MFA) error {
	ctx := r.Context()
	types, err := d.svc.PendingLoginTypes(ctx, p)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	page.TOTP = slices.Contains(types, "totp")
	if !slices.Contains(types, "webauthn") {
		return nil
	}
	options, state, err := d.svc.BeginWebAuthnSecondFactor(ctx, p)
	var verr *ValidationError
	switch {
	case errors.Is(err, ErrLoginExpired), errors.Is(err, ErrWebAuthnDisabled), errors.As(err, &verr):
		return nil
	case err != nil:
		return err
	}
	d.svc.Sessions().Put(ctx, sessionMFAPageWebAuthnKey, string(state))
	page.WebAuthnOptions = string(options)
	return nil
}

// mfaPageWebAuthn is POST login/mfa/ with an assertion: the key completes the pending
// login as a code does. The state is used once, whatever the outcome; a refused key
// shows the page again with new options.
func (d *api291) mfaPageWebAuthn(w http.ResponseWriter, r *http.Request, p PendingLogin, credential string) error {
	state := WebAuthnState(d.svc.Sessions().PopString(r.Context(), sessionMFAPageWebAuthnKey))
	res, err := d.svc.CompleteLoginWithWebAuthn(r.Context(), p, state, []byte(credential))
	if err != nil {
		return d.mfaPageFailed(w, r, err, msgMFAPageKeyRefused, ErrWebAuthnRefused, ErrWebAuthnChallengeExpired, ErrWebAuthnDisabled)
	}
	return d.mfaPageLoggedIn(w, r, res)
}
