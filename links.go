package restauth

import (
	"fmt"
	"net/url"
	"strings"
)

// This file builds the links mails carry (confirmation, password reset) from the Config
// templates, and checks those templates when the Service is made.

// checkLinkTemplate checks a Config link template: it must be a path starting with "/"
// (SiteURL is put before it) and hold each placeholder.
func checkLinkTemplate(field, tmpl string, placeholders ...string) error {
	if !strings.HasPrefix(tmpl, "/") {
		return fmt.Errorf("%w: %s must start with /", ErrConfig, field)
	}
	for _, p := range placeholders {
		if !strings.Contains(tmpl, p) {
			return fmt.Errorf("%w: %s must contain %s", ErrConfig, field, p)
		}
	}
	return nil
}

// siteLink builds an absolute link for an e-mail: Config.SiteURL followed by tmpl with
// each {name} of values replaced — escaped as a path segment before any "?" or "#", and as
// a query value after it. Links are never built from a request's Host header, which an
// attacker controls (reset poisoning).
func (s *Service) siteLink(tmpl string, values map[string]string) string {
	var b strings.Builder
	b.WriteString(s.cfg.SiteURL)
	inQuery := false
	for i := 0; i < len(tmpl); {
		c := tmpl[i]
		if c == '{' {
			if j := strings.IndexByte(tmpl[i:], '}'); j > 0 {
				if v, ok := values[tmpl[i+1:i+j]]; ok {
					if inQuery {
						b.WriteString(queryValueEscape(v))
					} else {
						b.WriteString(url.PathEscape(v))
					}
					i += j + 1
					continue
				}
			}
		}
		if c == '?' || c == '#' {
			inQuery = true
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// queryValueEscape is url.QueryEscape, except that ":" and "@" stay as they are (RFC 3986
// allows them in a query), so a confirmation key "<b64>:<ts>:<sig>" reads the same in the
// link as in the mail's text.
func queryValueEscape(v string) string {
	return strings.NewReplacer("%3A", ":", "%40", "@").Replace(url.QueryEscape(v))
}
