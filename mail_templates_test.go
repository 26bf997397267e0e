package restauth

import (
	"errors"
	htmltemplate "html/template"
	"regexp"
	"slices"
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultMailTemplatesRender(t *testing.T) {
	t.Parallel()
	const link = "https://inventree.example.com/platform/set-password?uid=MQ&token=c3x9qm-0f1e2d3c4b5a"
	tests := []struct {
		kind        MailKind
		wantSubject string
		wantText    []string // phrases of the text part (allauth's wording)
	}{
		{MailPasswordReset, "[InvenTree] Password Reset E-mail", []string{
			"You're receiving this e-mail because you or someone else has requested a password reset for your user account.",
			"Click the link below to reset your password.",
			"\n" + link + "\n",
			"In case you forgot, your username is alice.",
		}},
		{MailEmailConfirmation, "[InvenTree] Please Confirm Your E-mail Address", []string{
			"You're receiving this e-mail because user alice has given your e-mail address to register an account on InvenTree.",
			"To confirm this is correct, go to " + link + "\n",
		}},
		{MailMagicLink, "[InvenTree] Log in to InvenTree", []string{
			"asked for a login link for your user account (alice).",
			"\n" + link + "\n",
		}},
		{MailAccountExists, "[InvenTree] Account Already Exists", []string{
			"tried to sign up for an\naccount using e-mail address:\n\nalice@example.org\n",
			"However, an account using that e-mail address already exists.",
			"\n" + link + "\n",
		}},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			msg, err := renderMail(DefaultMailTemplates()[tc.kind], "[InvenTree] ", "alice@example.org", MailData{
				SiteURL: "https://inventree.example.com", SiteName: "InvenTree",
				Username: "alice", Email: "alice@example.org", Link: link,
			})
			require.NoError(t, err)
			assert.Equal(t, []string{"alice@example.org"}, msg.To)
			assert.Equal(t, tc.wantSubject, msg.Subject)
			for _, w := range tc.wantText {
				assert.Contains(t, msg.Text, w)
			}
			assert.True(t, strings.HasPrefix(msg.Text, "Hello from InvenTree!\n"))
			assert.Contains(t, msg.Text, "Thank you for using InvenTree!\nhttps://inventree.example.com\n")
			assert.True(t, strings.HasPrefix(msg.HTML, "<!DOCTYPE html>"))
			assert.Equal(t, []string{link}, testHrefsTo(msg.HTML, "/platform/"))
		})
	}
}

// testHrefsTo returns the unescaped href values of html that contain substr.
func testHrefsTo(html, substr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if v := testUnescapeHTML(m[1]); strings.Contains(v, substr) {
			out = append(out, v)
		}
	}
	return out
}

// testUnescapeHTML undoes the entity escaping html/template applies to text and
// attributes (the subset it produces).
func testUnescapeHTML(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&#43;", "+", "&quot;", `"`).Replace(s)
}

func TestRenderMailEscapesUserValuesInHTMLOnly(t *testing.T) {
	t.Parallel()
	const (
		username = `<script>alert(1)</script>`
		email    = `"o'hara&co"@example.org`
		link     = "https://inventree.example.com/platform/verify-email?key=MQ:1r2x3y:AbC-dEf_gh&next=%2F"
	)
	tests := []struct {
		kind MailKind
		// values the default template of kind shows, with how html/template writes them
		values map[string]string
	}{
		{MailPasswordReset, map[string]string{username: `&lt;script&gt;alert(1)&lt;/script&gt;`}},
		{MailEmailConfirmation, map[string]string{username: `&lt;script&gt;alert(1)&lt;/script&gt;`}},
		{MailAccountExists, map[string]string{email: `&#34;o&#39;hara&amp;co&#34;@example.org`}},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			msg, err := renderMail(DefaultMailTemplates()[tc.kind], "", email, MailData{
				SiteURL: "https://inventree.example.com", SiteName: "InvenTree",
				Username: username, Email: email, Link: link,
			})
			require.NoError(t, err)
			for raw, escaped := range tc.values {
				assert.Contains(t, msg.Text, raw, "text/plain shows values verbatim")
				assert.NotContains(t, msg.HTML, raw, "raw value in HTML")
				assert.Contains(t, msg.HTML, escaped)
			}
			assert.NotContains(t, msg.HTML, "<script")
			assert.NotContains(t, msg.Subject, "<script")
			// The link is intact: verbatim in the text part, and in the HTML part after
			// undoing entity escaping (href and visible text alike).
			assert.Contains(t, msg.Text, link)
			assert.Contains(t, testUnescapeHTML(msg.HTML), link)
			assert.Equal(t, []string{link}, testHrefsTo(msg.HTML, "/platform/"))
		})
	}
}

func TestRenderMail(t *testing.T) {
	t.Parallel()
	tmpl := func(subject string) *MailTemplate {
		return &MailTemplate{
			Subject: texttemplate.Must(texttemplate.New("s").Parse(subject)),
			Text:    texttemplate.Must(texttemplate.New("t").Parse("{{.SiteName}}")),
			HTML:    htmltemplate.Must(htmltemplate.New("h").Parse("<p>{{.SiteName}}</p>")),
		}
	}
	tests := []struct {
		name        string
		t           *MailTemplate
		prefix      string
		data        MailData
		wantSubject string
		wantText    string
		wantErr     string
	}{
		{name: "prefix and subject", t: tmpl("Hello {{.Username}}\n"), prefix: "[x] ", data: MailData{Username: "bob", SiteName: "S"}, wantSubject: "[x] Hello bob", wantText: "S"},
		{name: "multi-line subject collapses", t: tmpl("  Line one\r\nline\ttwo\n\n"), data: MailData{SiteName: "S"}, wantSubject: "Line one line two", wantText: "S"},
		{name: "newline in user value cannot add a header", t: tmpl("Hi {{.Username}}"), data: MailData{Username: "x\r\nBcc: evil@example.com", SiteName: "S"}, wantSubject: "Hi x Bcc: evil@example.com", wantText: "S"},
		{name: "site name defaults to host", t: tmpl("s"), data: MailData{SiteURL: "https://shop.example.com:8443/inv"}, wantSubject: "s", wantText: "shop.example.com:8443"},
		{name: "nil template", t: nil, wantErr: "incomplete"},
		{name: "missing part", t: &MailTemplate{Subject: tmpl("s").Subject}, wantErr: "incomplete"},
		{name: "execution error", t: tmpl("{{.Nope}}"), wantErr: "rendering mail subject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg, err := renderMail(tc.t, tc.prefix, "a@example.com", tc.data)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantSubject, msg.Subject)
			assert.Equal(t, tc.wantText, msg.Text)
		})
	}
}

func TestDefaultMailTemplatesAreFreshCopies(t *testing.T) {
	t.Parallel()
	a, b := DefaultMailTemplates(), DefaultMailTemplates()
	require.Len(t, a, len(mailKinds))
	for _, k := range mailKinds {
		require.NotNil(t, a[k], k)
		assert.NotSame(t, a[k], b[k], "callers may modify their copy")
	}
	delete(a, MailPasswordReset)
	assert.Contains(t, DefaultMailTemplates(), MailPasswordReset)
}

func TestMergeMailTemplates(t *testing.T) {
	t.Parallel()
	custom := &MailTemplate{
		Subject: texttemplate.Must(texttemplate.New("s").Parse("Reset for {{.Username}}")),
		Text:    texttemplate.Must(texttemplate.New("t").Parse("Go to {{.Link}}")),
		HTML:    htmltemplate.Must(htmltemplate.New("h").Parse(`<a href="{{.Link}}">reset</a>`)),
	}
	broken := &MailTemplate{
		Subject: custom.Subject,
		Text:    texttemplate.Must(texttemplate.New("t").Parse("{{.Token}}")), // no such field
		HTML:    custom.HTML,
	}
	tests := []struct {
		name    string
		custom  map[MailKind]*MailTemplate
		wantErr string
	}{
		{name: "nil map gives defaults"},
		{name: "one kind replaced", custom: map[MailKind]*MailTemplate{MailPasswordReset: custom}},
		{name: "nil template", custom: map[MailKind]*MailTemplate{MailPasswordReset: nil}, wantErr: "needs Subject, Text and HTML"},
		{name: "missing HTML", custom: map[MailKind]*MailTemplate{MailEmailConfirmation: {Subject: custom.Subject, Text: custom.Text}}, wantErr: "needs Subject, Text and HTML"},
		{name: "missing subject", custom: map[MailKind]*MailTemplate{MailAccountExists: {Text: custom.Text, HTML: custom.HTML}}, wantErr: "needs Subject, Text and HTML"},
		{name: "unknown kind", custom: map[MailKind]*MailTemplate{"password_reset_link": custom}, wantErr: "unknown mail template kind"},
		{name: "template that cannot render", custom: map[MailKind]*MailTemplate{MailPasswordReset: broken}, wantErr: "rendering mail text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := mergeMailTemplates(tc.custom)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrConfig))
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(mailKinds))
			for _, k := range mailKinds {
				if c, ok := tc.custom[k]; ok {
					assert.Same(t, c, got[k])
					continue
				}
				require.NotNil(t, got[k])
				msg, err := renderMail(got[k], "", "a@example.com", MailData{SiteURL: "https://example.com", Username: "ann", Link: "https://example.com/x", Code: "CODE42"})
				require.NoError(t, err)
				switch {
				case slices.Contains(codeMails, k):
					assert.Contains(t, msg.Text, "\n\nCODE42\n\n", "default for %s carries the code on a line of its own", k)
					assert.Contains(t, msg.HTML, "CODE42", "default for %s", k)
				case slices.Contains(securityNotices, k):
					assert.Contains(t, msg.Text, "ann", "default for %s names the account", k)
					assert.Contains(t, msg.Text, "If you did not make this change", "default for %s", k)
				default:
					assert.Contains(t, msg.Text, "https://example.com/x", "default for %s", k)
				}
			}
		})
	}
}
