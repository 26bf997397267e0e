// Package pages renders the HTML pages restauth serves itself: the e-mail confirmation
// page and the second-factor page, server-rendered in one shared frame
// (templates/layout.html). The only script is the second-factor page's security-key
// button (webauthn_get.js), allowed by its hash in the page's Content-Security-Policy and
// by nothing else. The package knows nothing of the routes, sessions or rules behind them.
package pages

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/restauth/restauth/internal/mailrender"
)

//go:embed templates/*.html
var pageFS embed.FS

// webauthnScript is the second-factor page's security-key script: it decodes the
// assertion options of the form's data-options, calls navigator.credentials.get, and
// posts the credential as JSON in the form's credential field.
//
//go:embed webauthn_get.js
var webauthnScript string

// The Content-Security-Policy of the pages: no script at all, or, on a page with the
// security-key button, only webauthnScript (by its hash; no inline handler, no other
// source).
var (
	cspNoScript = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	cspWebAuthn = cspNoScript + "; script-src '" + scriptHash(webauthnScript) + "'"
)

// scriptHash is a CSP hash source of an inline script's text.
func scriptHash(script string) string {
	sum := sha256.Sum256([]byte(script))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// parse parses one page with the shared frame, which runs the page's "content". Pages are
// embedded and covered by tests, so a parse error is a build defect and panics at
// start-up.
func parse(file string) *template.Template {
	return template.Must(template.ParseFS(pageFS, "templates/layout.html", "templates/"+file))
}

var (
	confirmEmail    = parse("confirm_email.html")
	mfaAuthenticate = parse("mfa_authenticate.html")
)

// ConfirmEmail fills confirm_email.html: the form when Email is set, else Message.
type ConfirmEmail struct {
	SiteName  string
	Title     string
	Email     string
	CSRFToken string
	Message   string
}

// MFA fills mfa_authenticate.html: the form when Form is set, else Message.
type MFA struct {
	SiteName  string
	Title     string
	Form      bool
	CSRFToken string
	Error     string
	Message   string
	LoginURL  string
	// TOTP words the code field for an authenticator app; without it the field takes a
	// recovery code.
	TOTP bool
	// WebAuthnOptions, when set, are the assertion options (JSON) of the user's security
	// keys: the page offers them beside the code, with the security-key script.
	WebAuthnOptions string
	// Script is set by WriteMFA.
	Script template.JS
}

// WriteConfirmEmail answers the confirmation page (see write).
func WriteConfirmEmail(w http.ResponseWriter, status int, data ConfirmEmail) error {
	data.Title = "Confirm E-mail Address"
	return write(w, status, confirmEmail, data, cspNoScript)
}

// WriteMFA answers the second-factor page (see write).
func WriteMFA(w http.ResponseWriter, status int, data MFA) error {
	data.Title = "Two-Factor Authentication"
	csp := cspNoScript
	if data.Form && data.WebAuthnOptions != "" {
		// The script is a constant of this package, never data: template.JS is safe here.
		data.Script, csp = template.JS(webauthnScript), cspWebAuthn
	}
	return write(w, status, mfaAuthenticate, data, csp)
}

// SiteName is the site's display name on a page: name, else siteURL's host.
func SiteName(name, siteURL string) string {
	if name != "" {
		return name
	}
	return mailrender.SiteHost(siteURL)
}

// write renders tmpl with data into a buffer first, so that a template error is still
// the router's 500 rather than half a page, then answers it. A page's URL or form holds a
// key, a CSRF token or a second factor, so it is never cached, never leaked in a Referer
// and never framed (a framed form could be submitted by a trick). csp is the page's
// Content-Security-Policy.
func write(w http.ResponseWriter, status int, tmpl *template.Template, data any, csp string) error {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the answer has begun: a failed write is the client's
	return nil
}
