package sso

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"
)

// The URL checks of the flow's redirects: where a flow ends must stay on the site's
// origin, whatever the configuration or the browser asked for, so no flow is an open
// redirect.

// SameOrigin reports whether u is an absolute URL with site's scheme and host (and no
// user info, which some browsers would show as a different site).
func SameOrigin(site, u *url.URL) bool {
	return u.Scheme == site.Scheme && strings.EqualFold(u.Host, site.Host) && u.User == nil && u.Opaque == ""
}

// SiteRedirect turns a configured redirect into an absolute URL on site's origin: a path
// ("/…") is put after site, an absolute URL must already be on site's scheme and host.
// "{reason}" may stand anywhere for a value filled in later. ok is false for anything
// else.
func SiteRedirect(site *url.URL, v string) (abs string, ok bool) {
	abs = v
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
		abs = site.String() + v
	}
	probe := strings.ReplaceAll(abs, "{reason}", "x")
	u, err := url.Parse(probe)
	if err != nil || strings.ContainsAny(probe, "\\ \t\r\n") || !SameOrigin(site, u) {
		return "", false
	}
	return abs, true
}

// SafeNext resolves a requested post-login target against site and keeps it only if it
// stays on site's origin and within maxLen bytes; anything else (another host, a
// scheme-relative "//evil", a backslash trick, javascript:) is "".
func SafeNext(site *url.URL, raw string, maxLen int) string {
	if raw == "" || len(raw) > maxLen || strings.ContainsAny(raw, "\\") {
		return ""
	}
	for _, r := range raw {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	abs := site.ResolveReference(u)
	if !SameOrigin(site, abs) {
		return ""
	}
	return abs.String()
}

// OriginKey is the origin of an absolute http(s) URL (an Origin header, a Referer, a
// configured origin), lower-cased and without a default port, or "" for anything else
// ("null", a relative or opaque URL, user info). Browsers send origins in this canonical
// form, so configured origins are compared in it too.
func OriginKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	switch scheme {
	case "http":
		host = strings.TrimSuffix(host, ":80")
	case "https":
		host = strings.TrimSuffix(host, ":443")
	default:
		return ""
	}
	return scheme + "://" + host
}

// AddQueryParam appends k=v to a URL's query, before any fragment; v is not escaped.
func AddQueryParam(raw, k, v string) string {
	base, frag, hasFrag := strings.Cut(raw, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	out := base + sep + k + "=" + v
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// StartAllowed reports whether a request with header h may start a flow, judging where
// the browser says it came from; trusted are the origins whose pages may send a browser to
// a start (the site's URL and the configured trusted origins, in any URL form). Fetch
// metadata decides when present: Sec-Fetch-Site "same-origin" (a page of this origin) and
// "none" (a typed URL, a bookmark) are allowed; "same-site", "cross-site" (or anything
// else) only when Origin and Referer name trusted origins, at least one of them present.
// Without Sec-Fetch-Site (an older browser, a non-browser client) an Origin or Referer
// naming another origin is refused, and their absence allowed.
func StartAllowed(h http.Header, trusted []string) bool {
	var sources []string
	for _, name := range []string{"Origin", "Referer"} {
		for _, v := range h.Values(name) {
			if v != "" {
				sources = append(sources, v)
			}
		}
	}
	switch h.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		if len(sources) == 0 {
			return false
		}
	}
	for _, src := range sources {
		if !trustedOrigin(OriginKey(src), trusted) {
			return false
		}
	}
	return true
}

// trustedOrigin reports whether key (an OriginKey) is the origin of one of trusted.
func trustedOrigin(key string, trusted []string) bool {
	if key == "" {
		return false
	}
	for _, o := range trusted {
		if OriginKey(o) == key {
			return true
		}
	}
	return false
}
