package restauth

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth/internal/pages"
)

// This file serves the e-mail confirmation page, allauth's ConfirmEmailView at the
// reference's route registration/account-confirm-email/<key>/: the page the default
// confirmation link (Config.Links.EmailConfirm) opens, so a host needs no page of its own.
// GET shows the address and a Confirm button (allauth's CONFIRM_EMAIL_ON_GET is off: mail
// scanners follow links, and a GET must not verify); the form's POST verifies and
// redirects to the login page. The page is server-rendered without JavaScript and
// protected like a Django form: the csrftoken cookie and a hidden csrfmiddlewaretoken
// field, plus the origin check. The rules are VerifyEmail's and ConfirmationAddress's.

// confirmPagePath is the page's route below the prefix, without the key.
const confirmPagePath = "registration/account-confirm-email/"

// Messages of the confirmation page. The first is allauth's.
const (
	msgConfirmKeyInvalid = "This e-mail confirmation link expired or is invalid. Please issue a new e-mail confirmation request."
	msgConfirmTaken      = "This e-mail address cannot be confirmed: another account has verified it already."
	msgConfirmCSRF       = "The form expired or did not come from this site. Please open the confirmation link again and confirm once more."
	msgConfirmBadForm    = "The form could not be read. Please open the confirmation link again."
)

// confirmEmailPage serves GET and POST registration/account-confirm-email/{key}/.
func (d *api291) confirmEmailPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	key := pathName(r)
	if r.Method != http.MethodPost {
		addr, err := d.svc.ConfirmationAddress(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return d.confirmMessage(w, http.StatusNotFound, msgConfirmKeyInvalid)
		}
		if err != nil {
			return err
		}
		token, err := d.formCSRFToken(w, r)
		if err != nil {
			return err
		}
		return d.renderConfirmPage(w, http.StatusOK, pages.ConfirmEmail{Email: addr.Email, CSRFToken: token})
	}

	r.Body = http.MaxBytesReader(w, r.Body, d.svc.cfg.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return d.confirmMessage(w, http.StatusBadRequest, msgConfirmBadForm)
	}
	// Checked before the key: a forged post must verify nothing, whatever key it names.
	if err := d.checkFormCSRF(r, r.PostForm.Get(csrfFormField)); err != nil {
		return d.confirmMessage(w, http.StatusForbidden, msgConfirmCSRF)
	}
	_, err := d.svc.VerifyEmail(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		return d.confirmMessage(w, http.StatusNotFound, msgConfirmKeyInvalid)
	case errors.Is(err, ErrConflict):
		return d.confirmMessage(w, http.StatusConflict, msgConfirmTaken)
	case err != nil:
		return err
	}
	// 303: the browser follows with a GET, and a reload does not post the form again.
	http.Redirect(w, r, d.svc.cfg.SiteURL+d.svc.cfg.Links.Login, http.StatusSeeOther)
	return nil
}

// confirmMessage renders the page with a message instead of the form.
func (d *api291) confirmMessage(w http.ResponseWriter, status int, msg string) error {
	return d.renderConfirmPage(w, status, pages.ConfirmEmail{Message: msg})
}

// renderConfirmPage renders the confirmation page (internal/pages).
func (d *api291) renderConfirmPage(w http.ResponseWriter, status int, data pages.ConfirmEmail) error {
	data.SiteName = pages.SiteName(d.svc.cfg.SiteName, d.svc.cfg.SiteURL)
	return pages.WriteConfirmEmail(w, status, data)
}
