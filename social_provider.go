package restauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// socialProvider is a configured provider with its lazily discovered OpenID Connect
// metadata.
type socialProvider struct {
	cfg SocialProvider

	mu        sync.Mutex
	discovery *oidc.Provider
	verifier  *oidc.IDTokenVerifier
	endpoint  oauth2.Endpoint
	userInfo  string
	// failedAt and failure remember a failed discovery for a few seconds, so an outage
	// of the provider does not queue every login behind a fresh timeout.
	failedAt time.Time
	failure  error
}

// discoveryTimeout bounds fetching a discovery document; discoveryRetry is how long a
// failure is remembered.
const (
	discoveryTimeout = 10 * time.Second
	discoveryRetry   = 5 * time.Second
)

func newSocialProvider(p SocialProvider) (*socialProvider, error) {
	if !validProviderID(p.ID) {
		return nil, fmt.Errorf("%w: social provider id %q must be 1-%d characters of a-z, 0-9, - and _", ErrConfig, p.ID, maxProviderIDLength)
	}
	bad := func(what string) error {
		return fmt.Errorf("%w: social provider %q: %s", ErrConfig, p.ID, what)
	}
	absolute := func(raw string) bool {
		u, err := url.Parse(raw)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
	}
	if p.Issuer != "" {
		if p.AuthURL != "" || p.TokenURL != "" || p.UserInfoURL != "" || p.EmailsURL != "" {
			return nil, bad("set either Issuer (OpenID Connect) or AuthURL/TokenURL/UserInfoURL (OAuth2), not both")
		}
		if !absolute(p.Issuer) {
			return nil, bad("Issuer must be an absolute http(s) URL")
		}
		if !slices.Contains(p.Scopes, "openid") {
			if len(p.Scopes) == 0 {
				p.Scopes = []string{"openid", "email", "profile"}
			} else {
				p.Scopes = append([]string{"openid"}, p.Scopes...)
			}
		}
	} else {
		for _, e := range []struct{ name, v string }{{"AuthURL", p.AuthURL}, {"TokenURL", p.TokenURL}, {"UserInfoURL", p.UserInfoURL}} {
			if !absolute(e.v) {
				return nil, bad(e.name + " must be an absolute http(s) URL (or set Issuer for OpenID Connect)")
			}
		}
		if p.EmailsURL != "" && !absolute(p.EmailsURL) {
			return nil, bad("EmailsURL must be an absolute http(s) URL")
		}
	}
	for k := range p.AuthParams {
		switch k {
		case "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method":
			return nil, bad("AuthParams cannot set " + k)
		}
	}
	p.Scopes = slices.Clone(p.Scopes)
	f := &p.Fields
	defaultString(&f.UID, "sub")
	defaultString(&f.Email, "email")
	defaultString(&f.EmailVerified, "email_verified")
	defaultString(&f.Username, "preferred_username")
	defaultString(&f.Name, "name")
	defaultString(&f.FirstName, "given_name")
	defaultString(&f.LastName, "family_name")
	defaultString(&p.Name, p.ID)
	defaultString(&p.DisplayName, p.Name)
	sp := &socialProvider{cfg: p}
	if p.Issuer == "" {
		sp.endpoint = oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL}
		sp.userInfo = p.UserInfoURL
	}
	return sp, nil
}

func (p *socialProvider) configured() bool { return p.cfg.ClientID != "" }

func (p *socialProvider) isOIDC() bool { return p.cfg.Issuer != "" }

// ready discovers an OpenID Connect provider on first use. A failure is not kept beyond
// discoveryRetry: the next login after that tries again.
func (p *socialProvider) ready(ctx context.Context, client *http.Client, now func() time.Time) error {
	if !p.isOIDC() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovery != nil {
		return nil
	}
	if p.failure != nil && time.Since(p.failedAt) < discoveryRetry {
		return p.failure
	}
	// A browser that gives up must not make the discovery fail for everyone else.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	ctx = oidc.ClientContext(ctx, client)
	if p.cfg.issuerTemplate != "" {
		// Multi-tenant Microsoft announces a templated issuer; each token's issuer is
		// checked against its tid in verifyIDToken instead.
		ctx = oidc.InsecureIssuerURLContext(ctx, p.cfg.issuerTemplate)
	}
	d, err := oidc.NewProvider(ctx, p.cfg.Issuer)
	if err != nil {
		p.failure, p.failedAt = err, time.Now()
		return err
	}
	p.discovery = d
	p.endpoint = d.Endpoint()
	p.userInfo = d.UserInfoEndpoint()
	p.verifier = d.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: now, SkipIssuerCheck: p.cfg.issuerTemplate != ""})
	p.failure = nil
	return nil
}

// oauth2Config is the provider's client configuration; call it after ready.
func (s *Service) oauth2Config(p *socialProvider) *oauth2.Config {
	p.mu.Lock()
	endpoint := p.endpoint
	p.mu.Unlock()
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  socialRouteURL(&s.cfg, p.cfg.ID, "callback"),
		Scopes:       p.cfg.Scopes,
	}
}
