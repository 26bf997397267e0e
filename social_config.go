package restauth

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/restauth/restauth/internal/oauthflow"
	"github.com/restauth/restauth/internal/sso"
)

// This file turns the social settings of Config into the state the flows share, once, in
// New: every check that can fail does so at start-up, never in the middle of a login.

// maxProviderIDLength leaves room in the SocialAccount provider column (200).
const maxProviderIDLength = 100

// socialService holds the configured providers and the state the browser flows share.
type socialService struct {
	providers []*socialProvider // in Config order
	byID      map[string]*socialProvider
	client    *http.Client
	// used remembers consumed flows until they expire, so a replayed state fails even
	// with the flow cookie.
	used oauthflow.ReplayCache
	// disconnectLocks serialise disconnects of one user, so two concurrent disconnects
	// cannot each leave the other as "the remaining login method".
	disconnectLocks [64]sync.Mutex
}

// newSocialService validates the social settings of cfg (after SiteURL is cleaned) and
// fills in their defaults. It never touches the network.
//
// The redirects (Social.LoginRedirect, Social.ConnectRedirect, Social.ErrorRedirect) are
// resolved in cfg itself to absolute URLs on SiteURL's origin, the error one always holding
// "{reason}": the operations and the dialects then read them from the Config as they are.
func newSocialService(cfg *Config, site *url.URL, log *slog.Logger) (*socialService, error) {
	ss := &socialService{byID: make(map[string]*socialProvider), client: sso.NewClient(cfg.Social.HTTPClient)}
	for i := range cfg.Social.Providers {
		p, err := newSocialProvider(cfg, ss, cfg.Social.Providers[i])
		if err != nil {
			return nil, err
		}
		if _, dup := ss.byID[p.cfg.ID]; dup {
			return nil, fmt.Errorf("%w: social provider id %q is used twice", ErrConfig, p.cfg.ID)
		}
		if p.cfg.ClientID == "" {
			log.Warn("restauth: social provider has no ClientID; it is listed as not configured", "provider", p.cfg.ID)
		}
		for _, raw := range []string{p.cfg.Issuer, p.cfg.AuthURL, p.cfg.TokenURL, p.cfg.UserInfoURL, p.cfg.EmailsURL} {
			if u, _ := url.Parse(raw); u != nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
				log.Warn("restauth: social provider endpoint is not https", "provider", p.cfg.ID, "url", raw)
			}
		}
		ss.byID[p.cfg.ID] = p
		ss.providers = append(ss.providers, p)
	}

	// The defaults were filled by Config.withDefaults; here they become absolute URLs on
	// New's own copy of the Config (never the host's).
	if !strings.Contains(cfg.Social.ErrorRedirect, "{reason}") {
		cfg.Social.ErrorRedirect = sso.AddQueryParam(cfg.Social.ErrorRedirect, "sso_error", "{reason}")
	}
	for _, r := range []struct {
		field string
		v     *string
	}{
		{"SocialLoginRedirect", &cfg.Social.LoginRedirect},
		{"SocialConnectRedirect", &cfg.Social.ConnectRedirect},
		{"SocialErrorRedirect", &cfg.Social.ErrorRedirect},
	} {
		// No configuration can make the flow an open redirect.
		abs, ok := sso.SiteRedirect(site, *r.v)
		if !ok {
			return nil, fmt.Errorf("%w: %s must be a path starting with / or an absolute URL on SiteURL's origin", ErrConfig, r.field)
		}
		*r.v = abs
	}
	return ss, nil
}

// originKey is the canonical origin of a URL, "" for anything else (see sso.OriginKey).
func originKey(raw string) string { return sso.OriginKey(raw) }

// validProviderID reports whether id is usable as a URL segment and account key.
func validProviderID(id string) bool {
	if id == "" || len(id) > maxProviderIDLength {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// socialRouteURL is the absolute URL of the social route action (login, connect,
// callback) of provider id, built from SiteURL and Prefix only, never from a request: the
// callback URL is registered with the provider and must not depend on a Host header. The
// flow needs it as the OAuth redirect URI and the 291 dialect lists the others.
func socialRouteURL(cfg *Config, id, action string) string {
	return cfg.SiteURL + cfg.Prefix + "social/" + url.PathEscape(id) + "/" + action + "/"
}
