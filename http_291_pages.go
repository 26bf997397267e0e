package restauth

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/restauth/restauth/internal/mailrender"
)

// The HTML pages restauth serves itself (the e-mail confirmation page, the second-factor
// page) share their site name and their answer.

//go:embed templates/pages/*.html
var pageFS embed.FS

// parsePage parses one page with the shared frame (templates/pages/layout.html), which
// runs the page's "content". Pages are embedded and covered by tests, so a parse error is
// a build defect and panics at start-up.
func parsePage(file string) *template.Template {
	return template.Must(template.ParseFS(pageFS, "templates/pages/layout.html", "templates/pages/"+file))
}

// pageSiteName is the site's display name on a page: Config.SiteName, else SiteURL's host.
func (d *api291) pageSiteName() string {
	if name := d.svc.cfg.SiteName; name != "" {
		return name
	}
	return mailrender.SiteHost(d.svc.cfg.SiteURL)
}

// writePage renders tmpl with data into a buffer first, so that a template error is still
// the router's 500 rather than half a page, then answers it. A page's URL or form holds a
// key, a CSRF token or a second factor, so it is never cached, never leaked in a Referer
// and never framed (a framed form could be submitted by a trick).
func writePage(w http.ResponseWriter, status int, tmpl *template.Template, data any) error {
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
