// Package mailrender renders one e-mail from its three templates: a subject that becomes
// a header, a text/plain part and an HTML alternative. It sees the data as a plain value
// and knows nothing of accounts or of which e-mail it renders.
package mailrender

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"strings"
	texttemplate "text/template"
)

// Mail is a rendered e-mail.
type Mail struct {
	Subject, Text, HTML string
}

// Render executes the three templates with data. The subject is subjectPrefix followed by
// the rendered subject, collapsed to a single line (as allauth does) because it becomes a
// header: a newline in a user's value cannot add another header. A nil template is an
// error; execution errors come from text/template and html/template, which report
// template positions rather than the data (which holds the link).
func Render(subject, text *texttemplate.Template, html *htmltemplate.Template, subjectPrefix string, data any) (Mail, error) {
	if subject == nil || text == nil || html == nil {
		return Mail{}, errors.New("restauth: mail template is incomplete")
	}
	var s, t, h bytes.Buffer
	if err := subject.Execute(&s, data); err != nil {
		return Mail{}, fmt.Errorf("restauth: rendering mail subject: %w", err)
	}
	if err := text.Execute(&t, data); err != nil {
		return Mail{}, fmt.Errorf("restauth: rendering mail text: %w", err)
	}
	if err := html.Execute(&h, data); err != nil {
		return Mail{}, fmt.Errorf("restauth: rendering mail HTML: %w", err)
	}
	return Mail{
		Subject: strings.Join(strings.Fields(subjectPrefix+s.String()), " "),
		Text:    t.String(),
		HTML:    h.String(),
	}, nil
}

// SiteHost is the host (with its port) of the absolute URL siteURL, the site's name when
// none is configured; "" when siteURL has none.
func SiteHost(siteURL string) string {
	if u, err := url.Parse(siteURL); err == nil {
		return u.Host
	}
	return ""
}
