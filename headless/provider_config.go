package headless

// Provider flows: what config and the anonymous session's flows report of the social
// providers (allauth's socialaccount configuration and provider_* flows).

// providerFlowIDs are the flows a configured provider supports here: the browser
// redirect and, for native apps, the token flow (an OpenID Connect provider, or an OAuth2
// one whose access tokens the Service takes: SocialProviderInfo.TokenLogin).
var providerFlowIDs = []string{"provider_redirect", "provider_token"}

// redirectOnly are the flows of a provider without the token flow.
var redirectOnly = []string{"provider_redirect"}

// providerConfig is one entry of config's socialaccount.providers.
type providerConfig struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Flows    []string `json:"flows"`
	ClientID string   `json:"client_id,omitempty"`
	OIDCURL  string   `json:"openid_configuration_url,omitempty"`
}

// providerEntry is allauth's Provider object of the configured provider id.
func (c *call) providerEntry(id string) *providerConfig {
	for _, p := range c.svc().SocialProviders() {
		if p.ID == id {
			pc := providerConfig{ID: p.ID, Name: p.DisplayName, Flows: providerFlowIDs, ClientID: p.ClientID}
			if !p.TokenLogin {
				pc.Flows = redirectOnly
			}
			if p.Issuer != "" {
				pc.OIDCURL = p.Issuer + "/.well-known/openid-configuration"
			}
			return &pc
		}
	}
	return &providerConfig{ID: id, Name: id, Flows: providerFlowIDs}
}

// socialConfig adds socialaccount to config's data when social login is on.
func (c *call) socialConfig(data map[string]any) {
	if !c.svc().SocialSettings().Enabled {
		return
	}
	providers := []providerConfig{}
	for _, p := range c.svc().SocialProviders() {
		if !p.Configured {
			continue
		}
		providers = append(providers, *c.providerEntry(p.ID))
	}
	data["socialaccount"] = map[string]any{"providers": providers}
}

// providerFlows are the anonymous session's provider_redirect and provider_token flows,
// with the providers that support them; none when social login is off.
func (c *call) providerFlows() []flow {
	if !c.svc().SocialSettings().Enabled {
		return nil
	}
	var ids, tokenIDs []string
	for _, p := range c.svc().SocialProviders() {
		if p.Configured {
			ids = append(ids, p.ID)
			if p.TokenLogin {
				tokenIDs = append(tokenIDs, p.ID)
			}
		}
	}
	if ids == nil {
		return nil
	}
	flows := []flow{{ID: "provider_redirect", Providers: ids}}
	if tokenIDs != nil {
		flows = append(flows, flow{ID: "provider_token", Providers: tokenIDs})
	}
	if f, ok := c.pendingSignupFlow(); ok {
		flows = append(flows, f)
	}
	return flows
}
