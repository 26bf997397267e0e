// Package pages renders the HTML pages restauth serves itself: the e-mail confirmation
// page and the second-factor page, server-rendered without JavaScript in one shared frame
// (templates/layout.html). It knows nothing of the routes, sessions or rules behind them.
package pages

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/restauth/restauth/internal/mailrender"
)

//go:embed templates/*.html
var pageFS embed.FS

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
}

// WriteConfirmEmail answers the confirmation page (see write).
func WriteConfirmEmail(w http.ResponseWriter, status int, data ConfirmEmail) error {
	data.Title = "Confirm E-mail Address"
	return write(w, status, confirmEmail, data)
}

// WriteMFA answers the second-factor page (see write).
func WriteMFA(w http.ResponseWriter, status int, data MFA) error {
	data.Title = "Two-Factor Authentication"
	return write(w, status, mfaAuthenticate, data)
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
// and never framed (a framed form could be submitted by a trick).
func write(w http.ResponseWriter, status int, tmpl *template.Template, data any) error {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // the answer has begun: a failed write is the client's
	return nil
}
