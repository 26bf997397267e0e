// Package validate checks user names and e-mail addresses as Django's validators do
// (UnicodeUsernameValidator and EmailValidator), so restauth accepts exactly the accounts
// a Django site would. It decides validity only; the messages belong to the caller.
package validate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// NormalizeUsername is Django's AbstractBaseUser.normalize_username:
// unicodedata.normalize("NFKC", username). Compatibility forms (full-width letters,
// ligatures, superscripts, the Kelvin and Ohm signs) become their plain letters, so names
// that look alike are stored and compared alike.
func NormalizeUsername(s string) string {
	return norm.NFKC.String(s)
}

// Username reports whether s matches Django's username pattern ^[\w.@+-]+$, where \w
// is Python's Unicode word class: letters, numbers and the underscore.
func Username(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) {
			continue
		}
		switch r {
		case '_', '.', '@', '+', '-':
			continue
		}
		return false
	}
	return true
}

// Email follows Django's EmailValidator: a dot-atom or quoted local part, and a domain
// of dotted labels ending in a label of two or more characters (internationalised names
// are checked in their punycode form), an address literal, or "localhost".
func Email(s string) bool {
	// Django validates text, which cannot hold invalid UTF-8; idna.ToASCII would map such
	// bytes to U+FFFD and pass a domain no store can hold.
	if len(s) > 320 || !utf8.ValidString(s) {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if !validLocalPart(local) {
		return false
	}
	if strings.EqualFold(domain, "localhost") {
		return true
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return validAddressLiteral(domain[1 : len(domain)-1])
	}
	if validDomain(domain) {
		return true
	}
	ascii, err := idna.ToASCII(domain)
	return err == nil && ascii != domain && validDomain(ascii)
}

func validLocalPart(local string) bool {
	if strings.HasPrefix(local, `"`) {
		if len(local) < 2 || !strings.HasSuffix(local, `"`) {
			return false
		}
		inner := local[1 : len(local)-1]
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			if c == '\\' {
				// Django's quoted-pair, [\001-\011\013\014\016-\177]: a backslash escapes
				// neither a line break (the address becomes a mail's recipient header) nor
				// a NUL (which no store holds).
				i++
				if i >= len(inner) || inner[i] > 0x7f || inner[i] == 0 || inner[i] == '\r' || inner[i] == '\n' {
					return false
				}
				continue
			}
			if c == '"' || c > 0x7f || c < 0x01 || c == '\r' || c == '\n' {
				return false
			}
		}
		return true
	}
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			c := atom[i]
			if isAlnumASCII(c) || strings.IndexByte("!#$%&'*+/=?^_`{}|~-", c) >= 0 {
				continue
			}
			return false
		}
	}
	return true
}

func validDomain(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for i, label := range labels {
		last := i == len(labels)-1
		if label == "" || len(label) > 63 || label[len(label)-1] == '-' {
			return false
		}
		if !last && label[0] == '-' {
			return false
		}
		if last && len(label) < 2 {
			return false
		}
		for j := 0; j < len(label); j++ {
			if !isAlnumASCII(label[j]) && label[j] != '-' {
				return false
			}
		}
	}
	return true
}

func validAddressLiteral(lit string) bool {
	if strings.HasPrefix(strings.ToLower(lit), "ipv6:") {
		lit = lit[5:]
		return strings.Count(lit, ":") >= 2 && strings.Trim(lit, "0123456789abcdefABCDEF:.") == ""
	}
	parts := strings.Split(lit, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
		n := 0
		for i := 0; i < len(p); i++ {
			n = n*10 + int(p[i]-'0')
		}
		if n > 255 {
			return false
		}
	}
	return true
}

func isAlnumASCII(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
