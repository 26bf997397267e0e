package headless

import (
	"encoding/json"
	"errors"

	"github.com/restauth/restauth"
)

// This file serves account/providers: the user's social accounts, listed and disconnected
// through SocialAccounts and DisconnectSocialAccount (which refuses to remove the last way
// to log in).

// providerData is allauth's Provider object of a configured provider id.
func (c *call) providerData(id string) map[string]any {
	p := map[string]any{"id": id, "name": id, "flows": []string{"provider_redirect"}}
	for _, info := range c.svc().SocialProviders() {
		if info.ID == id {
			p["name"] = info.DisplayName
			if info.DisplayName == "" {
				p["name"] = info.Name
			}
		}
	}
	return p
}

// accountDisplay is a name for a social account from the profile the provider gave
// (allauth's ProviderAccount.to_str), its uid when the profile names nothing.
func accountDisplay(a restauth.SocialAccount) string {
	var profile map[string]any
	_ = json.Unmarshal(a.ExtraData, &profile) // no profile: the uid
	for _, k := range []string{"preferred_username", "login", "username", "name", "email"} {
		if v, ok := profile[k].(string); ok && v != "" {
			return v
		}
	}
	return a.UID
}

// providerList answers the user's social accounts (allauth's ProviderAccountsResponse).
func (c *call) providerList() *answer {
	accounts, err := c.svc().SocialAccounts(c.ctx, c.user.ID)
	if err != nil {
		return c.fail(err)
	}
	out := make([]map[string]any, 0, len(accounts))
	for _, a := range accounts {
		out = append(out, map[string]any{"uid": a.UID, "display": accountDisplay(a), "provider": c.providerData(a.Provider)})
	}
	return ok(out)
}

// providersGet is GET account/providers.
func (h *handler) providersGet(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	return c.providerList()
}

// providerDisconnect is DELETE account/providers: one social account ({provider,
// account}) disconnected, then the remaining ones.
func (h *handler) providerDisconnect(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	var in struct {
		Provider string `json:"provider"`
		Account  string `json:"account"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	var errs []apiError
	if in.Provider == "" {
		errs = append(errs, required("provider"))
	}
	if in.Account == "" {
		errs = append(errs, required("account"))
	}
	if errs != nil {
		return badRequest(errs...)
	}
	accounts, err := c.svc().SocialAccounts(c.ctx, c.user.ID)
	if err != nil {
		return c.fail(err)
	}
	id := int64(0)
	for _, a := range accounts {
		if a.Provider == in.Provider && a.UID == in.Account {
			id = a.ID
		}
	}
	if id != 0 {
		err = c.svc().DisconnectSocialAccount(c.ctx, c.user, id)
	}
	switch {
	case id == 0, errors.Is(err, restauth.ErrNotFound):
		return badRequest(apiError{Code: "account_not_found", Param: "account", Message: "Unknown account."})
	case errors.Is(err, restauth.ErrLastLoginMethod):
		return badRequest(apiError{Code: "no_password", Param: "account", Message: "Your account has no password set up."})
	case err != nil:
		return c.fail(err)
	}
	return c.providerList()
}
