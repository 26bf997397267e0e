// Package fold maps strings to case-insensitive keys: two strings strings.EqualFold reports
// equal get the same key (and a few more do: 'İ' and 'i', as PostgreSQL's lower() has them). memstore keys its case-insensitive indexes with
// it, and the rate limits key login names and addresses with it, so that no spelling a
// store takes for the same account gets a limiter count of its own.
package fold

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s's key.
func String(s string) string {
	// Fast path: ASCII without capitals is its own key, so the common all-lower-case
	// username or address costs no allocation.
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		b.WriteRune(Rune(r))
	}
	return b.String()
}

// Rune maps every rune of a unicode.SimpleFold orbit (e.g. 'K', 'k' and the Kelvin sign)
// to one member of it: the lower case of the orbit's smallest rune, which for ASCII is the
// ordinary lower-case letter, keeping String's fast path consistent.
func Rune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return unicode.ToLower(least)
}
