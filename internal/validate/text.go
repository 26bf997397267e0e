package validate

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TokenName cleans an API token's name as InvenTree does with ?name=: it trims the name,
// drops HTML tags and unprintable characters, turns spaces into dashes and cuts it to
// maxLen characters.
func TokenName(name string, maxLen int) string {
	name = StripTags(name)
	var b strings.Builder
	for _, r := range strings.TrimSpace(name) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case unicode.IsPrint(r):
			b.WriteRune(r)
		}
	}
	out := b.String()
	if utf8.RuneCountInString(out) > maxLen {
		out = string([]rune(out)[:maxLen])
	}
	return out
}

// StripTags removes HTML tags and unescapes entities, as InvenTree's strip_html_tags does.
// Unlike it, tags that the unescaping brings to life ("&lt;svg onload=…&gt;") are removed
// as well: what comes out holds no HTML.
func StripTags(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	out := html.UnescapeString(removeTags(s))
	if strings.Contains(out, "<") {
		out = removeTags(out)
	}
	return out
}

// removeTags drops every <…> span, and an unclosed one to the end.
func removeTags(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	return b.String()
}
