package restauth

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/restauth/restauth/internal/pages"
)

// This file serves the `mfa` flow of login/ (BEHAVIOUR.md §5.1) for browsers: InvenTree's
// web UI answers the JSON 403 "MFA required for this user" with a full-page form POST to
// login/ carrying username, password, csrfmiddlewaretoken and mfa=true, and follows the
// 302 to a second-factor page (allauth-2fa's two-factor-authenticate). restauth serves
// that page itself at login/mfa/ below the prefix: server-rendered (JavaScript only for a
// user's security key, http_291_mfa_page_webauthn.go), protected like a Django form (the csrftoken cookie and the hidden csrfmiddlewaretoken
// field, plus the origin check). The rules are Login's (LoginRequest.Defer) and
// CompleteLogin's: the same limits, audit and replay protection as the JSON second step.
// The session holds only the pending user's id, the session auth hash and an expiry,
// never the password.

// mfaPagePath is the second-factor page's route below the prefix.
const mfaPagePath = "login/mfa/"

// mfaCodeField is the page's code field, allauth-2fa's TOTPAuthenticateForm name.
const mfaCodeField = "otp_token"

// Session keys of a pending login (see PendingLogin).
const (
	sessionPendingUserKey    = "_mfa_pending_user_id"
	sessionPendingHashKey    = "_mfa_pending_hash"
	sessionPendingExpiresKey = "_mfa_pending_expires"
	// sessionPendingFirstKey holds PendingLogin.FirstFactor and Provider ("social github").
	sessionPendingFirstKey = "_mfa_pending_first"
	// sessionPendingEmailKey holds PendingLogin.Email (the address a login code proved).
	sessionPendingEmailKey = "_mfa_pending_email"
)

// Messages of the second-factor page. The first is allauth-2fa's.
const (
	msgMFAPageIncorrect = "The token entered was incorrect. Please try again."
	msgMFAPageThrottled = "Too many attempts. Please wait a moment and try again."
	msgMFAPageExpired   = "Your login expired or was not started here. Please log in again."
	msgMFAPageCSRF      = "The form expired or did not come from this site. Please log in again."
	msgMFAPageBadForm   = "The form could not be read. Please log in again."
)

// mfaFormLogin is login/ with a truthy mfa: the reference's browser flow. The form must
// carry the csrftoken cookie's token (a state change of the session from a page). Wrong
// credentials answer 401 with an empty body, as the reference does; a user with no
// second factor to give logs in as with the normal flow.
func (d *api291) mfaFormLogin(w http.ResponseWriter, r *http.Request, f *formData) error {
	token, _, _ := f.Raw(csrfFormField)
	if err := d.checkFormCSRF(r, token); err != nil {
		return err
	}
	username, _, _ := f.Raw("username")
	email, _, _ := f.Raw("email")
	password, _, _ := f.Raw("password")
	res, err := d.svc.Login(r.Context(), LoginRequest{Username: username, Email: email, Password: password, Defer: true})
	var verr *ValidationError
	switch {
	case errors.As(err, &verr) && !errors.Is(err, ErrEmailNotVerified):
		// Django's authenticate() returned None: the view answers HttpResponse(status=401),
		// an empty body with Django's default content type.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		return nil
	case err != nil:
		return err
	case res.Pending == nil:
		return d.finishLogin(w, r, res)
	}
	ctx := r.Context()
	// A new session id: the pending login is half a login, and a session id fixed by an
	// attacker before must not become the victim's logged-in session after the code. The
	// reference logs the session out again before it redirects, so nobody stays logged in.
	if err := d.svc.PutPendingLogin(ctx, *res.Pending); err != nil {
		return err
	}
	if err := d.saveSession(w, r); err != nil {
		d.sessionUnavailable(w, r, err)
		return nil
	}
	http.Redirect(w, r, d.svc.cfg.Prefix+mfaPagePath, http.StatusFound)
	return nil
}

// pendingLogin reads the session's pending login, if any.
func (d *api291) pendingLogin(r *http.Request) (PendingLogin, bool) {
	return d.svc.SessionPendingLogin(r.Context())
}

// dropPendingLogin removes the session's pending login.
func (d *api291) dropPendingLogin(r *http.Request) { d.svc.DropPendingLogin(r.Context()) }

// mfaPage serves GET and POST login/mfa/: the code form, and its check.
func (d *api291) mfaPage(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		if _, ok := d.pendingLogin(r); !ok {
			return d.mfaMessage(w, http.StatusBadRequest, msgMFAPageExpired)
		}
		return d.mfaForm(w, r, http.StatusOK, "")
	}
	r.Body = http.MaxBytesReader(w, r.Body, d.svc.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return d.mfaMessage(w, http.StatusBadRequest, msgMFAPageBadForm)
	}
	// Checked before the code: a forged post must neither log in nor spend an attempt.
	if err := d.checkFormCSRF(r, r.PostForm.Get(csrfFormField)); err != nil {
		return d.mfaMessage(w, http.StatusForbidden, msgMFAPageCSRF)
	}
	p, ok := d.pendingLogin(r)
	if !ok {
		d.dropPendingLogin(r)
		return d.mfaMessage(w, http.StatusBadRequest, msgMFAPageExpired)
	}
	if cred := r.PostForm.Get(mfaCredentialField); cred != "" {
		return d.mfaPageWebAuthn(w, r, p, cred)
	}
	res, err := d.svc.CompleteLogin(r.Context(), p, r.PostForm.Get(mfaCodeField))
	if err != nil {
		return d.mfaPageFailed(w, r, err, msgMFAPageIncorrect, ErrInvalidMFACode)
	}
	return d.mfaPageLoggedIn(w, r, res)
}

// mfaPageFailed answers a second step the operation refused: an expired login ends with
// the message, a wrong answer (err matching one of wrong) shows the form again with
// wrongMsg, a limit shows it with 429; any other error is returned.
func (d *api291) mfaPageFailed(w http.ResponseWriter, r *http.Request, err error, wrongMsg string, wrong ...error) error {
	var throttled *ThrottledError
	switch {
	case errors.Is(err, ErrLoginExpired), errors.Is(err, ErrEmailNotVerified):
		d.dropPendingLogin(r)
		return d.mfaMessage(w, http.StatusBadRequest, msgMFAPageExpired)
	case slices.ContainsFunc(wrong, func(target error) bool { return errors.Is(err, target) }):
		return d.mfaForm(w, r, http.StatusBadRequest, wrongMsg)
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(throttled.RetryAfterSeconds))
		return d.mfaForm(w, r, http.StatusTooManyRequests, msgMFAPageThrottled)
	}
	return err
}

// mfaPageLoggedIn ends the page's login with res, its second step done.
func (d *api291) mfaPageLoggedIn(w http.ResponseWriter, r *http.Request, res *LoginResult) error {
	d.dropPendingLogin(r)
	err := d.loginSession(w, r, res.User)
	if err == nil {
		err = d.saveSession(w, r)
	}
	if err != nil {
		d.sessionUnavailable(w, r, err)
		return nil
	}
	// 303: the browser follows with a GET, and a reload does not post the code again.
	http.Redirect(w, r, d.svc.cfg.SiteURL+d.svc.cfg.Links.AfterLogin, http.StatusSeeOther)
	return nil
}

// mfaForm renders the code form, with msg as its error when set.
func (d *api291) mfaForm(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	token, err := d.formCSRFToken(w, r)
	if err != nil {
		return err
	}
	page := pages.MFA{Form: true, CSRFToken: token, Error: msg, TOTP: true}
	if p, ok := d.pendingLogin(r); ok {
		if err := d.offerWebAuthn(r, p, &page); err != nil {
			return err
		}
	}
	return d.renderMFAPage(w, status, page)
}

// mfaMessage renders the page with a message and a link back to the login page.
func (d *api291) mfaMessage(w http.ResponseWriter, status int, msg string) error {
	return d.renderMFAPage(w, status, pages.MFA{Message: msg, LoginURL: d.svc.cfg.SiteURL + d.svc.cfg.Links.Login})
}

// renderMFAPage renders the second-factor page (internal/pages).
func (d *api291) renderMFAPage(w http.ResponseWriter, status int, data pages.MFA) error {
	data.SiteName = pages.SiteName(d.svc.cfg.SiteName, d.svc.cfg.SiteURL)
	return pages.WriteMFA(w, status, data)
}
