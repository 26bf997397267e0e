package mailrender

import (
	"embed"
	htmltemplate "html/template"
	texttemplate "text/template"
)

//go:embed templates/*.txt templates/*.html
var templateFS embed.FS

// Default parses the built-in English templates of kind, which follow django-allauth's
// wording: templates/<kind>_subject.txt, <kind>.txt and <kind>.html. A notice shares the
// security-notice layout, whose files run the kind's "notice" (and the HTML "title").
// The files are embedded and covered by tests, so a parse error is a build defect and
// panics.
func Default(kind string, notice bool) (*texttemplate.Template, *texttemplate.Template, *htmltemplate.Template) {
	base := "templates/" + kind
	text, html := []string{base + ".txt"}, []string{base + ".html"}
	if notice {
		// ParseFS executes the first file named: the layout.
		text = append([]string{"templates/security_notice.txt"}, text...)
		html = append([]string{"templates/security_notice.html"}, html...)
	}
	return texttemplate.Must(texttemplate.ParseFS(templateFS, base+"_subject.txt")),
		texttemplate.Must(texttemplate.ParseFS(templateFS, text...)),
		htmltemplate.Must(htmltemplate.ParseFS(templateFS, html...))
}
