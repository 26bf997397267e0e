package mailrender

import (
	htmltemplate "html/template"
	"testing"
	texttemplate "text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type data struct{ Name, Link string }

func TestRender(t *testing.T) {
	t.Parallel()
	text := func(s string) *texttemplate.Template { return texttemplate.Must(texttemplate.New("t").Parse(s)) }
	html := func(s string) *htmltemplate.Template { return htmltemplate.Must(htmltemplate.New("h").Parse(s)) }
	tests := []struct {
		name    string
		subject *texttemplate.Template
		text    *texttemplate.Template
		html    *htmltemplate.Template
		prefix  string
		data    any
		want    Mail
		wantErr string
	}{
		{name: "all parts", subject: text("Hi {{.Name}}"), text: text("Go to {{.Link}}"), html: html(`<a href="{{.Link}}">{{.Name}}</a>`),
			prefix: "[x] ", data: data{Name: "<b>", Link: "https://e.com/?a=1&b=2"},
			want: Mail{Subject: "[x] Hi <b>", Text: "Go to https://e.com/?a=1&b=2", HTML: `<a href="https://e.com/?a=1&amp;b=2">&lt;b&gt;</a>`}},
		{name: "subject collapses to one line", subject: text("  one\r\ntwo\tthree\n\n"), text: text(""), html: html(""),
			want: Mail{Subject: "one two three"}},
		{name: "a newline in a value cannot add a header", subject: text("Hi {{.Name}}"), text: text(""), html: html(""),
			data: data{Name: "x\r\nBcc: evil@example.com"}, want: Mail{Subject: "Hi x Bcc: evil@example.com"}},
		{name: "prefix whitespace is collapsed too", subject: text("s"), text: text(""), html: html(""), prefix: " [x]\n ",
			want: Mail{Subject: "[x] s"}},
		{name: "missing subject", text: text(""), html: html(""), wantErr: "restauth: mail template is incomplete"},
		{name: "missing text", subject: text(""), html: html(""), wantErr: "restauth: mail template is incomplete"},
		{name: "missing html", subject: text(""), text: text(""), wantErr: "restauth: mail template is incomplete"},
		{name: "subject fails", subject: text("{{.Nope}}"), text: text(""), html: html(""), data: data{}, wantErr: "restauth: rendering mail subject: "},
		{name: "text fails", subject: text(""), text: text("{{.Nope}}"), html: html(""), data: data{}, wantErr: "restauth: rendering mail text: "},
		{name: "html fails", subject: text(""), text: text(""), html: html("{{.Nope}}"), data: data{}, wantErr: "restauth: rendering mail HTML: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(tt.subject, tt.text, tt.html, tt.prefix, tt.data)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, Mail{}, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSiteHost(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://shop.example.com:8443/inv", "shop.example.com:8443"},
		{"http://example.com", "example.com"},
		{"", ""},
		{"not a url", ""},
		{"://bad", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, SiteHost(tt.in), tt.in)
	}
}
