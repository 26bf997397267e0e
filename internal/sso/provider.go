// Package sso is the provider side of social login: the configuration of one OAuth2 or
// OpenID Connect provider, its lazily discovered metadata, the authorization URL, and the
// profile the provider asserts after the code exchange (ID token verified, user-info and
// e-mail list read), and the URL checks that keep the flow's redirects on the site. It
// knows nothing of accounts or of the browser flow's state: the root package decides what
// a profile does to users, and maps this package's errors to its typed failure reasons.
package sso

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Fields names the profile fields (top-level keys, or dot-separated paths such as
// "data.id") a provider answers with; New fills empty ones with the OpenID Connect claim
// names. EmailVerified "-" means the provider never asserts it.
type Fields struct {
	UID, Email, EmailVerified, Username, Name, FirstName, LastName string
}

// Config is one provider as the host configured it, plus what the provider needs from
// the service it runs in. New validates it and fills in its defaults.
type Config struct {
	ID           string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// Issuer makes the provider OpenID Connect; AuthURL, TokenURL and UserInfoURL (and
	// the optional EmailsURL) describe a plain OAuth2 provider instead.
	Issuer      string
	AuthURL     string
	TokenURL    string
	UserInfoURL string
	EmailsURL   string
	Fields      Fields
	AuthParams  map[string]string
	// IssuerTemplate is a multi-tenant issuer with "{tenantid}" standing for the token's
	// tid claim (Microsoft): each token's issuer is checked against it.
	IssuerTemplate string

	// RedirectURL is the callback URL registered with the provider.
	RedirectURL string
	// Client makes every request to the provider (see NewClient).
	Client *http.Client
	// Now is the clock ID tokens are checked against.
	Now func() time.Time
	// Log receives what a login survives (an unreadable e-mail list).
	Log *slog.Logger
}

// Provider is a configured provider with its lazily discovered OpenID Connect metadata.
type Provider struct {
	cfg Config

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

// New validates a provider's endpoints and parameters and fills in the default scopes
// and fields. It never touches the network. Its error says what is wrong, for the caller
// to prefix with the provider.
func New(c Config) (*Provider, error) {
	absolute := func(raw string) bool {
		u, err := url.Parse(raw)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
	}
	if c.Issuer != "" {
		if c.AuthURL != "" || c.TokenURL != "" || c.UserInfoURL != "" || c.EmailsURL != "" {
			return nil, errors.New("set either Issuer (OpenID Connect) or AuthURL/TokenURL/UserInfoURL (OAuth2), not both")
		}
		if !absolute(c.Issuer) {
			return nil, errors.New("Issuer must be an absolute http(s) URL")
		}
		if !slices.Contains(c.Scopes, "openid") {
			if len(c.Scopes) == 0 {
				c.Scopes = []string{"openid", "email", "profile"}
			} else {
				c.Scopes = append([]string{"openid"}, c.Scopes...)
			}
		}
	} else {
		for _, e := range []struct{ name, v string }{{"AuthURL", c.AuthURL}, {"TokenURL", c.TokenURL}, {"UserInfoURL", c.UserInfoURL}} {
			if !absolute(e.v) {
				return nil, errors.New(e.name + " must be an absolute http(s) URL (or set Issuer for OpenID Connect)")
			}
		}
		if c.EmailsURL != "" && !absolute(c.EmailsURL) {
			return nil, errors.New("EmailsURL must be an absolute http(s) URL")
		}
	}
	for k := range c.AuthParams {
		switch k {
		case "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method":
			return nil, errors.New("AuthParams cannot set " + k)
		}
	}
	c.Scopes = slices.Clone(c.Scopes)
	f := &c.Fields
	for _, d := range []struct {
		v   *string
		def string
	}{
		{&f.UID, "sub"}, {&f.Email, "email"}, {&f.EmailVerified, "email_verified"},
		{&f.Username, "preferred_username"}, {&f.Name, "name"},
		{&f.FirstName, "given_name"}, {&f.LastName, "family_name"},
	} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Client == nil {
		c.Client = NewClient(nil)
	}
	p := &Provider{cfg: c}
	if c.Issuer == "" {
		p.endpoint = oauth2.Endpoint{AuthURL: c.AuthURL, TokenURL: c.TokenURL}
		p.userInfo = c.UserInfoURL
	}
	return p, nil
}

// IsOIDC reports whether the provider is OpenID Connect (an ID token, a nonce).
func (p *Provider) IsOIDC() bool { return p.cfg.Issuer != "" }

// Ready discovers an OpenID Connect provider on first use. A failure is not kept beyond
// discoveryRetry: the next login after that tries again.
func (p *Provider) Ready(ctx context.Context) error {
	if !p.IsOIDC() {
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
	ctx = oidc.ClientContext(ctx, p.cfg.Client)
	if p.cfg.IssuerTemplate != "" {
		// Multi-tenant Microsoft announces a templated issuer; each token's issuer is
		// checked against its tid in verifyIDToken instead.
		ctx = oidc.InsecureIssuerURLContext(ctx, p.cfg.IssuerTemplate)
	}
	d, err := oidc.NewProvider(ctx, p.cfg.Issuer)
	if err != nil {
		p.failure, p.failedAt = err, time.Now()
		return err
	}
	p.discovery = d
	p.endpoint = d.Endpoint()
	p.userInfo = d.UserInfoEndpoint()
	p.verifier = d.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.cfg.Now, SkipIssuerCheck: p.cfg.IssuerTemplate != ""})
	p.failure = nil
	return nil
}

// oauth2Config is the provider's client configuration; call it after Ready. A non-empty
// redirect replaces the configured RedirectURL: the flow's own callback, which must be
// sent again, unchanged, with the code exchange.
func (p *Provider) oauth2Config(redirect string) *oauth2.Config {
	p.mu.Lock()
	endpoint := p.endpoint
	p.mu.Unlock()
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     endpoint,
		RedirectURL:  cmp.Or(redirect, p.cfg.RedirectURL),
		Scopes:       p.cfg.Scopes,
	}
}

// NewVerifier draws a PKCE code verifier for a flow.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// AuthCodeURL is the authorization URL a flow sends the browser to (call it after
// Ready): the flow's state, the S256 challenge of its PKCE verifier, its nonce when not
// empty, and the configured AuthParams; redirect, when not empty, is the flow's callback
// instead of the configured RedirectURL.
func (p *Provider) AuthCodeURL(state, verifier, nonce, redirect string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if nonce != "" {
		opts = append(opts, oidc.Nonce(nonce))
	}
	for k, v := range p.cfg.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return p.oauth2Config(redirect).AuthCodeURL(state, opts...)
}
