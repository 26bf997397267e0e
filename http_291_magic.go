package restauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/restauth/restauth/internal/drf"
)

// This file serves InvenTree's magic-link login below /api/email/ (its GetSimpleLoginView
// and django-sesame's LoginView): generate/ mails the link, login/ opens the session. The
// operations (magic_link.go) own the lookup, the token and the limits. Service.APIHandler
// mounts these routes only with Config.MagicLink.Enabled; without it the paths get the
// API root's JSON 404.

// magicRoot is where the magic-link routes live, below APIHandler's /api/.
const magicRoot = apiRoot + "email/"

// Reasons of MagicLinkConfig.ErrorRedirect.
const (
	magicReasonInvalid     = "invalid_link"
	magicReasonMFARequired = "mfa_required"
)

// magicStatusJSON is GetSimpleLoginView's answer, whatever happened to the address.
type magicStatusJSON struct {
	Status string `json:"status"`
}

func (d *api291) magicRoutes() []*route {
	return []*route{
		// The web UI posts with a plain axios call: no token, no cookies it set up.
		{pattern: "generate/", methods: []string{http.MethodPost}, public: true, name: "Get Simple Login", handle: d.magicGenerate},
		{pattern: "login/", methods: []string{http.MethodGet}, public: true, usesSession: true, name: "Login", handle: d.magicLogin},
	}
}

// magicGenerate serves POST generate/ {"email"}: always 200 {"status": "ok"} once the
// field is there; RequestMagicLink tells nothing about the address.
func (d *api291) magicGenerate(w http.ResponseWriter, r *http.Request) error {
	v, err := d.fields(w, r, charField{Name: "email", Required: true})
	if err != nil {
		return err
	}
	if err := d.svc.RequestMagicLink(r.Context(), v["email"]); err != nil {
		return err
	}
	drf.WriteJSON(w, http.StatusOK, magicStatusJSON{Status: "ok"})
	return nil
}

// magicLogin serves GET login/?sesame=…: a good link logs the session in and redirects to
// MagicLink.LoginRedirect; a refused one redirects to MagicLink.ErrorRedirect with its
// reason, the session untouched. A user with a second factor is refused there with
// "mfa_required" until restauth serves an HTML second-factor step to continue to: a link
// must not be the way around MFA.
func (d *api291) magicLogin(w http.ResponseWriter, r *http.Request) error {
	u, err := d.svc.MagicLogin(r.Context(), r.URL.Query().Get("sesame"))
	switch {
	case errors.Is(err, ErrMagicLinkInvalid):
		d.magicFailRedirect(w, magicReasonInvalid)
		return nil
	case errors.Is(err, ErrMFARequired):
		d.magicFailRedirect(w, magicReasonMFARequired)
		return nil
	case err != nil:
		return err
	}
	if err := d.loginSession(w, r, u); err != nil {
		return err
	}
	if err := d.saveSession(w, r); err != nil {
		// The link is used up (the login was recorded); the user asks for another.
		d.sessionUnavailable(w, r, err)
		return nil
	}
	// no-referrer: the link's token stays out of the next page's Referer.
	socialRedirect(w, d.svc.cfg.MagicLink.LoginRedirect)
	return nil
}

// magicFailRedirect answers with 302 to MagicLink.ErrorRedirect for one of the fixed
// reasons.
func (d *api291) magicFailRedirect(w http.ResponseWriter, reason string) {
	socialRedirect(w, strings.ReplaceAll(d.svc.cfg.MagicLink.ErrorRedirect, "{reason}", url.QueryEscape(reason)))
}
