package restauth

import (
	"fmt"

	"github.com/restauth/restauth/internal/sso"
)

// socialProvider is a configured provider: its settings, defaults applied, for what the
// accounts side reads (ID, Name, DisplayName), and its runtime in internal/sso (discovery,
// the OAuth2 client, the profile).
type socialProvider struct {
	cfg SocialProvider
	rt  *sso.Provider
}

// newSocialProvider checks p and prepares its runtime; site-wide values (the callback
// URL, the HTTP client, the clock and the logger) come from cfg and ss.
func newSocialProvider(cfg *Config, ss *socialService, p SocialProvider) (*socialProvider, error) {
	if !validProviderID(p.ID) {
		return nil, fmt.Errorf("%w: social provider id %q must be 1-%d characters of a-z, 0-9, - and _", ErrConfig, p.ID, maxProviderIDLength)
	}
	f := p.Fields
	rt, err := sso.New(sso.Config{
		ID: p.ID, ClientID: p.ClientID, ClientSecret: p.ClientSecret, Scopes: p.Scopes,
		Issuer: p.Issuer, AuthURL: p.AuthURL, TokenURL: p.TokenURL, UserInfoURL: p.UserInfoURL, EmailsURL: p.EmailsURL,
		Fields: sso.Fields{UID: f.UID, Email: f.Email, EmailVerified: f.EmailVerified, Username: f.Username,
			Name: f.Name, FirstName: f.FirstName, LastName: f.LastName},
		AuthParams:     p.AuthParams,
		IssuerTemplate: p.issuerTemplate,
		RedirectURL:    socialRouteURL(cfg, p.ID, "callback"),
		Client:         ss.client,
		Now:            cfg.Now,
		Log:            cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: social provider %q: %v", ErrConfig, p.ID, err)
	}
	defaultString(&p.Name, p.ID)
	defaultString(&p.DisplayName, p.Name)
	return &socialProvider{cfg: p, rt: rt}, nil
}

func (p *socialProvider) configured() bool { return p.cfg.ClientID != "" }
