package validate

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Storable reports whether s is text every store can hold and look up: valid UTF-8
// without a NUL byte. PostgreSQL refuses both in a text value (SQLSTATE 22021), so a
// value that is not storable names no account, and looking it up could only fail.
func Storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

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

// Clip keeps the first n characters of s.
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// UsernameFrom derives a username from a profile's candidates (the provider's username,
// the address's local part, the name), like allauth: the first that gives a valid one
// once NFKC-normalised (NormalizeUsername), cut to the characters Django allows,
// lower-cased and clipped to maxLen; fallback clipped when none does.
func UsernameFrom(candidates []string, maxLen int, fallback string) string {
	for _, cand := range candidates {
		var b strings.Builder
		for _, r := range strings.ToLower(NormalizeUsername(cand)) {
			if unicode.IsLetter(r) || unicode.IsNumber(r) || strings.ContainsRune("_.@+-", r) {
				b.WriteRune(r)
			}
		}
		if out := Clip(b.String(), maxLen); out != "" && Username(out) {
			return out
		}
	}
	return Clip(fallback, maxLen)
}
