package restauth

import (
	"net/url"
	"strings"
)

// This file is the configuration a host writes: the provider type and the presets of the
// common providers. It holds no behaviour, so it reads as the reference of what can be set;
// New checks it (social_config.go) and the flow uses it (social_flow.go).

// SocialProvider configures one single-sign-on provider: OpenID Connect when Issuer is
// set (endpoints found by discovery, the ID token verified), plain OAuth2 otherwise (the
// profile read from UserInfoURL through Fields). The presets GitHubProvider,
// GitLabProvider, GoogleProvider, MicrosoftProvider and KeycloakProvider fill in everything
// but the client credentials.
//
// Register the callback URL SiteURL + Config.Prefix + "social/<ID>/callback/" (e.g.
// https://example.com/api/auth/social/keycloak/callback/) with the provider.
type SocialProvider struct {
	// ID names the provider in URLs (social/<ID>/login/) and in stored SocialAccount
	// records: lower-case ASCII letters, digits, "-" and "_", at most 100 characters.
	// Required; unique. Changing it orphans the accounts linked under the old ID.
	ID string
	// Name is reported as "name" by providers/. Default: ID.
	Name string
	// DisplayName is reported as "display_name" (the login button's label). Default: Name.
	DisplayName string
	// ClientID and ClientSecret are the credentials registered with the provider. A
	// provider without ClientID is listed with configured=false and its routes answer 404.
	// ClientSecret may be empty for a public client (PKCE protects the code exchange).
	ClientID     string
	ClientSecret string
	// Scopes requested. Default for OpenID Connect: openid, email, profile ("openid" is
	// always added); for OAuth2: none.
	Scopes []string

	// Issuer makes the provider OpenID Connect: its discovery document is fetched from
	// Issuer + "/.well-known/openid-configuration" on first use (never by New), and the
	// ID token must carry exactly this issuer.
	Issuer string

	// AuthURL, TokenURL and UserInfoURL are a plain OAuth2 provider's endpoints; all three
	// are required when Issuer is empty, and must be empty when it is set.
	AuthURL     string
	TokenURL    string
	UserInfoURL string
	// EmailsURL, optional (OAuth2 only), returns GitHub's shape
	// [{"email", "primary", "verified"}, …]; the primary entry gives the e-mail address and
	// whether the provider verified it.
	EmailsURL string
	// Fields maps the profile (ID-token claims and user-info) to an account.
	Fields UserInfoFields
	// AuthParams are extra parameters for the authorization request, such as
	// {"prompt": "select_account"}. They cannot replace the ones restauth sets.
	AuthParams map[string]string
	// AccessTokenLogin lets the token flow (LoginWithProviderToken, headless
	// auth/provider/token) log in with a plain OAuth2 provider's access token alone. Off,
	// such a token is refused (SocialReasonProfileFailed): an OAuth2 access token names no
	// audience, and the provider answers user-info for a token any of its clients holds,
	// so a token the user granted another application (or another site's "log in with"
	// button) would log that application in here as the user. Turn it on only for a
	// provider that issues tokens to this site's own clients alone. OpenID Connect
	// providers ignore it: their ID token is verified for this client as audience.
	AccessTokenLogin bool

	// issuerTemplate is set by MicrosoftProvider for multi-tenant endpoints: the issuer the
	// discovery document announces, with "{tenantid}" standing for the token's tid claim.
	issuerTemplate string
}

// UserInfoFields names the profile fields (top-level keys, or dot-separated paths such as
// "data.id") a provider answers with. Empty fields take the OpenID Connect claim names
// shown.
type UserInfoFields struct {
	// UID is the provider's stable account id ("sub"); numbers are used in decimal.
	UID string
	// Email is the e-mail address ("email").
	Email string
	// EmailVerified is true (a JSON true or "true") when the provider verified the address
	// ("email_verified"). Set it to "-" for a provider that never asserts it.
	EmailVerified string
	// Username is the preferred username ("preferred_username"), the base of a new
	// account's username.
	Username string
	// Name is the full name ("name"), used when FirstName and LastName are absent.
	Name string
	// FirstName and LastName ("given_name", "family_name").
	FirstName string
	LastName  string
}

// GitHubProvider is GitHub (OAuth2 app): the id is the numeric account id, the e-mail
// address the primary one from /user/emails, verified as GitHub reports it.
func GitHubProvider(clientID, clientSecret string) SocialProvider {
	return SocialProvider{
		ID: "github", Name: "GitHub", ClientID: clientID, ClientSecret: clientSecret,
		Scopes:      []string{"read:user", "user:email"},
		AuthURL:     "https://github.com/login/oauth/authorize",
		TokenURL:    "https://github.com/login/oauth/access_token",
		UserInfoURL: "https://api.github.com/user",
		EmailsURL:   "https://api.github.com/user/emails",
		Fields:      UserInfoFields{UID: "id", Email: "email", EmailVerified: "-", Username: "login", Name: "name"},
	}
}

// GitLabProvider is GitLab through OpenID Connect; baseURL "" means https://gitlab.com,
// else a self-managed instance such as "https://gitlab.example.com".
func GitLabProvider(baseURL, clientID, clientSecret string) SocialProvider {
	if baseURL == "" {
		baseURL = "https://gitlab.com"
	}
	return SocialProvider{ID: "gitlab", Name: "GitLab", ClientID: clientID, ClientSecret: clientSecret,
		Issuer: strings.TrimSuffix(baseURL, "/")}
}

// GoogleProvider is Google through OpenID Connect.
func GoogleProvider(clientID, clientSecret string) SocialProvider {
	return SocialProvider{ID: "google", Name: "Google", ClientID: clientID, ClientSecret: clientSecret,
		Issuer: "https://accounts.google.com"}
}

// MicrosoftProvider is Microsoft Entra ID (Azure AD) through OpenID Connect. tenant is a
// tenant id or domain for a single-tenant app, or "common" (the default for ""),
// "organizations" or "consumers" for multi-tenant apps; then the token's issuer must name
// the tenant of its tid claim. Microsoft does not assert that its e-mail claim is verified,
// so accounts are never linked by it.
func MicrosoftProvider(tenant, clientID, clientSecret string) SocialProvider {
	if tenant == "" {
		tenant = "common"
	}
	p := SocialProvider{ID: "microsoft", Name: "Microsoft", ClientID: clientID, ClientSecret: clientSecret,
		Issuer: "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/v2.0",
		Fields: UserInfoFields{EmailVerified: "-"}}
	switch tenant {
	case "common", "organizations", "consumers":
		p.issuerTemplate = "https://login.microsoftonline.com/{tenantid}/v2.0"
	}
	return p
}

// KeycloakProvider is a Keycloak realm through OpenID Connect; baseURL is the server's
// URL (e.g. "https://sso.example.com", or ending in "/auth" for Keycloak before 17).
func KeycloakProvider(baseURL, realm, clientID, clientSecret string) SocialProvider {
	return SocialProvider{ID: "keycloak", Name: "Keycloak", ClientID: clientID, ClientSecret: clientSecret,
		Issuer: strings.TrimSuffix(baseURL, "/") + "/realms/" + url.PathEscape(realm)}
}
