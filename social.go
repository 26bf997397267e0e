package restauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/restauth/restauth/internal/oauthflow"
	"github.com/restauth/restauth/internal/validate"
)

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

// maxProviderIDLength leaves room in the SocialAccount provider column (200).
const maxProviderIDLength = 100

// socialService holds the configured providers and the state the browser flows share.
type socialService struct {
	providers []*socialProvider // in Config order
	byID      map[string]*socialProvider
	client    *http.Client
	// loginRedirect, connectRedirect and errorRedirect are absolute URLs on SiteURL's
	// origin; errorRedirect holds "{reason}".
	loginRedirect   string
	connectRedirect string
	errorRedirect   string
	// trustedOrigins are SiteURL's origin and Config.TrustedOrigins, normalised by
	// originKey: the pages that may send a browser to login/ and connect/ (see
	// startAllowed).
	trustedOrigins map[string]bool
	// used remembers consumed flows until they expire, so a replayed state fails even
	// with the flow cookie.
	used oauthflow.ReplayCache
	// disconnectLocks serialise disconnects of one user, so two concurrent disconnects
	// cannot each leave the other as "the remaining login method".
	disconnectLocks [64]sync.Mutex
}

// newSocialService checks the social settings of cfg (with Config.withDefaults applied,
// so SiteURL is cleaned and the redirects are set) and builds the providers. It changes
// nothing in cfg and never touches the network. trustedOrigins are Config.TrustedOrigins.
func newSocialService(cfg SocialConfig, trustedOrigins []string, site *url.URL, log *slog.Logger) (*socialService, error) {
	ss := &socialService{byID: make(map[string]*socialProvider), trustedOrigins: make(map[string]bool)}
	// New refuses malformed TrustedOrigins after this (http.CrossOriginProtection checks
	// them); here they are only collected.
	for _, o := range append([]string{site.Scheme + "://" + site.Host}, trustedOrigins...) {
		if key := originKey(o); key != "" {
			ss.trustedOrigins[key] = true
		}
	}
	for i := range cfg.Providers {
		p, err := newSocialProvider(cfg.Providers[i])
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

	var err error
	if ss.loginRedirect, err = configRedirect(site, "Social.LoginRedirect", cfg.LoginRedirect); err != nil {
		return nil, err
	}
	if ss.connectRedirect, err = configRedirect(site, "Social.ConnectRedirect", cfg.ConnectRedirect); err != nil {
		return nil, err
	}
	tmpl := cfg.ErrorRedirect
	if !strings.Contains(tmpl, "{reason}") {
		tmpl = addQueryParam(tmpl, "sso_error", "{reason}")
	}
	if ss.errorRedirect, err = configRedirect(site, "Social.ErrorRedirect", tmpl); err != nil {
		return nil, err
	}

	client := &http.Client{Timeout: 10 * time.Second}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		client = &copied
	}
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	client.Transport = limitedTransport{base}
	ss.client = client
	return ss, nil
}

// configRedirect turns a Config redirect into an absolute URL on SiteURL's origin: a path
// ("/…") is put after SiteURL, like the e-mail link paths; an absolute URL must already be
// on SiteURL's scheme and host. Anything else is refused, so no configuration can make
// the flow an open redirect.
func configRedirect(site *url.URL, field, v string) (string, error) {
	abs := v
	if strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") {
		abs = site.String() + v
	}
	probe := strings.ReplaceAll(abs, "{reason}", "x")
	u, err := url.Parse(probe)
	if err != nil || strings.ContainsAny(probe, "\\ \t\r\n") || !sameOrigin(site, u) {
		return "", fmt.Errorf("%w: %s must be a path starting with / or an absolute URL on SiteURL's origin", ErrConfig, field)
	}
	return abs, nil
}

// sameOrigin reports whether u is an absolute URL with site's scheme and host (and no
// user info, which some browsers would show as a different site).
func sameOrigin(site, u *url.URL) bool {
	return u.Scheme == site.Scheme && strings.EqualFold(u.Host, site.Host) && u.User == nil && u.Opaque == ""
}

// addQueryParam appends k=v to a URL's query, before any fragment; v is not escaped.
func addQueryParam(raw, k, v string) string {
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

// providerJSON describes one social login provider.
type providerJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Configured  bool   `json:"configured"`
	Login       string `json:"login"`
	Connect     string `json:"connect"`
	DisplayName string `json:"display_name"`
}

// providersJSON is InvenTree's SocialProviderListView answer: one object, never paginated.
type providersJSON struct {
	SSOEnabled               bool           `json:"sso_enabled"`
	SSORegistration          bool           `json:"sso_registration"`
	MFARequired              bool           `json:"mfa_required"`
	MFAEnabled               bool           `json:"mfa_enabled"`
	Providers                []providerJSON `json:"providers"`
	RegistrationEnabled      bool           `json:"registration_enabled"`
	PasswordForgottenEnabled bool           `json:"password_forgotten_enabled"`
}

// socialURL is the absolute URL of a social route of provider id, built from SiteURL and
// Config.Prefix only (never from the request).
func (s *Service) socialURL(id, action string) string {
	return s.cfg.SiteURL + s.cfg.Prefix + "social/" + url.PathEscape(id) + "/" + action + "/"
}

func (s *Service) handleProviders(w http.ResponseWriter, r *http.Request) error {
	list := make([]providerJSON, 0, len(s.social.providers))
	for _, p := range s.social.providers {
		list = append(list, providerJSON{
			ID:          p.cfg.ID,
			Name:        p.cfg.Name,
			Configured:  p.configured(),
			Login:       s.socialURL(p.cfg.ID, "login"),
			Connect:     s.socialURL(p.cfg.ID, "connect"),
			DisplayName: p.cfg.DisplayName,
		})
	}
	writeJSON(w, http.StatusOK, providersJSON{
		SSOEnabled:               s.cfg.Social.Enabled,
		SSORegistration:          s.cfg.Social.Registration,
		MFARequired:              s.cfg.MFA.Enabled && s.cfg.MFA.Required,
		MFAEnabled:               s.cfg.MFA.Enabled,
		Providers:                list,
		RegistrationEnabled:      !s.cfg.DisableRegistration,
		PasswordForgottenEnabled: !s.cfg.DisablePasswordReset,
	})
	return nil
}

// SocialAccounts returns the user's social accounts, ordered by id.
func (s *Service) SocialAccounts(ctx context.Context, userID int64) ([]SocialAccount, error) {
	return s.store.SocialAccounts(ctx, userID)
}

const msgLastLoginMethod = "You cannot disconnect your last social account while your account has no password. Set a password first, or connect another social account."

// DisconnectSocialAccount deletes one of the user's social accounts. Another user's or an
// unknown id matches ErrNotFound. Unlike the reference, it refuses (a *ValidationError
// matching ErrLastLoginMethod) to remove the last social account of a user without a
// usable password, who could never log in again.
//
// It emits AuditSocialUnlinked.
func (s *Service) DisconnectSocialAccount(ctx context.Context, u *User, id int64) error {
	userID := u.ID
	lock := &s.social.disconnectLocks[uint64(userID)%uint64(len(s.social.disconnectLocks))]
	lock.Lock()
	defer lock.Unlock()
	accounts, err := s.store.SocialAccounts(ctx, userID)
	if err != nil {
		return err
	}
	found := false
	for _, a := range accounts {
		if a.ID == id {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("social account %d of user %d: %w", id, userID, ErrNotFound)
	}
	if len(accounts) == 1 {
		// Read the user afresh: the caller's copy may predate a password change.
		fresh, err := s.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if !fresh.HasUsablePassword() {
			return causedFieldError(ErrLastLoginMethod, nonFieldErrors, msgLastLoginMethod)
		}
	}
	if err := s.store.DeleteSocialAccount(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, AuditSocialUnlinked, u, idDetail("social_account_id", id))
	return nil
}

// socialAccountJSON is allauth's SocialAccount as InvenTree's SocialAccountListView shows it.
type socialAccountJSON struct {
	ID         int64    `json:"id"`
	Provider   string   `json:"provider"`
	UID        string   `json:"uid"`
	LastLogin  jsonTime `json:"last_login"`
	DateJoined jsonTime `json:"date_joined"`
}

func (s *Service) handleSocialAccounts(w http.ResponseWriter, r *http.Request) error {
	c := callOf(r)
	accounts, err := s.SocialAccounts(r.Context(), c.auth.user.ID)
	if err != nil {
		return err
	}
	out := make([]socialAccountJSON, len(accounts))
	for i, a := range accounts {
		out[i] = socialAccountJSON{ID: a.ID, Provider: a.Provider, UID: a.UID,
			LastLogin: jsonTime(a.LastLogin), DateJoined: jsonTime(a.DateJoined)}
	}
	writeList(w, r, out)
	return nil
}

// handleSocialDisconnect serves POST social/{id}/disconnect/; the body is ignored.
func (s *Service) handleSocialDisconnect(w http.ResponseWriter, r *http.Request) error {
	c := callOf(r)
	if err := s.DisconnectSocialAccount(r.Context(), c.auth.user, c.id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// socialLogin finds or creates the user a provider account logs in, and records the login.
func (s *Service) socialLogin(ctx context.Context, p *socialProvider, prof *socialProfile) (*User, *socialFailure) {
	if s.cfg.MFA.Enabled && s.cfg.MFA.Required {
		// Every user needs a second factor, which only a password login can give.
		return nil, socialFail(reasonMFARequired, nil)
	}
	now := s.now().UTC()
	acct, err := s.store.SocialAccountByUID(ctx, p.cfg.ID, prof.UID)
	var u *User
	switch {
	case err == nil:
		if u, err = s.store.UserByID(ctx, acct.UserID); err != nil {
			return nil, socialFail(reasonServerError, err)
		}
	case errors.Is(err, ErrNotFound):
		var f *socialFailure
		if u, f = s.socialSignup(ctx, p, prof, now); f != nil {
			return nil, f
		}
	default:
		return nil, socialFail(reasonServerError, err)
	}
	if !u.IsActive {
		return nil, socialFail(reasonInactive, nil)
	}
	if f := s.refuseSocialForMFA(ctx, u); f != nil {
		return nil, f
	}
	if s.cfg.EmailVerification == VerificationMandatory {
		verified, err := s.hasVerifiedPrimary(ctx, u)
		if err != nil {
			return nil, socialFail(reasonServerError, err)
		}
		if !verified {
			return nil, socialFail(reasonEmailNotVerified, nil)
		}
	}
	// A refused login records nothing.
	if acct != nil {
		if err := s.store.UpdateSocialAccountLogin(ctx, acct.ID, now, prof.Extra); err != nil {
			return nil, socialFail(reasonServerError, err)
		}
	}
	// Recording the login also invalidates password-reset links issued before it.
	if u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &now}); err != nil {
		return nil, socialFail(reasonServerError, err)
	}
	return u, nil
}

// refuseSocialForMFA refuses a social login of a user with TOTP: the second step exists
// for password logins only, and a provider account must not be the way around it.
func (s *Service) refuseSocialForMFA(ctx context.Context, u *User) *socialFailure {
	if !s.cfg.MFA.Enabled {
		return nil
	}
	d, err := s.activeTOTP(ctx, u.ID)
	if err != nil {
		return socialFail(reasonServerError, err)
	}
	if d != nil {
		return socialFail(reasonMFARequired, nil)
	}
	return nil
}

// socialSignup handles a provider account nobody has linked yet: it links it to the user
// who holds the provider's address verified — only when the provider asserts the address
// verified and Config.Social.LinkByVerifiedEmail allows it (an unverified match would let
// whoever controls the provider account take over the local one) — or creates a user when
// Config.Social.Registration is on.
func (s *Service) socialSignup(ctx context.Context, p *socialProvider, prof *socialProfile, now time.Time) (*User, *socialFailure) {
	holder, _, err := s.verifiedHolder(ctx, prof.Email)
	if err != nil {
		return nil, socialFail(reasonServerError, err)
	}
	if holder != nil {
		if !prof.EmailVerified || !s.cfg.Social.LinkByVerifiedEmail {
			return nil, socialFail(reasonEmailInUse, nil)
		}
		// Refused logins link nothing: a user with TOTP is not logged in below, and must
		// not find a provider account linked behind their back.
		if f := s.refuseSocialForMFA(ctx, holder); f != nil {
			return nil, f
		}
		if f := s.linkSocialAccount(ctx, p, prof, holder, now, true); f != nil {
			return nil, f
		}
		return holder, nil
	}
	if !s.cfg.Social.Registration {
		return nil, socialFail(reasonRegistrationClosed, nil)
	}
	u := &User{FirstName: prof.FirstName, LastName: prof.LastName, IsActive: true, DateJoined: now}
	var addr *EmailAddress
	if prof.Email != "" {
		addr = &EmailAddress{Email: prof.Email, Primary: true, Verified: prof.EmailVerified}
	}
	base := usernameBase(prof, p.cfg.ID)
	for attempt := 0; ; attempt++ {
		candidate := base
		if attempt > 0 {
			digits := 4
			if attempt > 5 {
				digits = 8
			}
			suffix, err := randomString(digits, "0123456789")
			if err != nil {
				return nil, socialFail(reasonServerError, err)
			}
			candidate = clipRunes(base, maxUsernameLength-digits) + suffix
		}
		if attempt < 10 {
			if taken, err := s.usernameTaken(ctx, candidate, 0); err != nil {
				return nil, socialFail(reasonServerError, err)
			} else if taken {
				continue
			}
		}
		u.ID, u.Username, u.Email = 0, candidate, ""
		if addr != nil {
			addr.ID, addr.UserID = 0, 0
		}
		err := s.store.CreateUser(ctx, u, addr)
		var conflict *ConflictError
		switch {
		case err == nil:
		case errors.As(err, &conflict) && conflict.Field == "username" && attempt < 20:
			continue
		case errors.As(err, &conflict):
			return nil, socialFail(reasonEmailInUse, err)
		default:
			return nil, socialFail(reasonServerError, err)
		}
		break
	}
	if f := s.linkSocialAccount(ctx, p, prof, u, now, false); f != nil {
		// Another callback for the same provider account won the race: undo this user.
		if err := s.store.DeleteUser(ctx, u.ID); err != nil {
			s.log.ErrorContext(ctx, "restauth: could not remove a user created for a lost social-login race", "user_id", u.ID, "error", err)
		}
		return nil, f
	}
	if addr != nil && !addr.Verified && s.cfg.EmailVerification != VerificationNone {
		s.sendConfirmation(ctx, u, addr)
	}
	return u, nil
}

// linkSocialAccount stores the provider account for u. existing is set when u existed
// before this flow (connect, link by verified e-mail): u is then mailed a security notice,
// since whoever holds the provider account can now log in as u. Like every notice it goes
// only to an address u holds verified (see notify); a user the flow has just created gets
// none.
func (s *Service) linkSocialAccount(ctx context.Context, p *socialProvider, prof *socialProfile, u *User, now time.Time, existing bool) *socialFailure {
	acct := &SocialAccount{UserID: u.ID, Provider: p.cfg.ID, UID: prof.UID, LastLogin: now, DateJoined: now, ExtraData: prof.Extra}
	if err := s.store.CreateSocialAccount(ctx, acct); err != nil {
		if errors.Is(err, ErrConflict) {
			return socialFail(reasonAccountInUse, err)
		}
		return socialFail(reasonServerError, err)
	}
	s.audit(ctx, AuditSocialLinked, u, "provider="+p.cfg.ID)
	if existing {
		s.notify(ctx, MailSocialConnected, u, MailData{Provider: p.cfg.DisplayName})
	}
	return nil
}

// connectSocialAccount links the provider account to the logged-in user; an account
// already linked to someone else is refused.
func (s *Service) connectSocialAccount(ctx context.Context, p *socialProvider, prof *socialProfile, u *User) *socialFailure {
	now := s.now().UTC()
	acct, err := s.store.SocialAccountByUID(ctx, p.cfg.ID, prof.UID)
	switch {
	case err == nil && acct.UserID == u.ID:
		if err := s.store.UpdateSocialAccountLogin(ctx, acct.ID, now, prof.Extra); err != nil {
			return socialFail(reasonServerError, err)
		}
		return nil
	case err == nil:
		return socialFail(reasonAccountInUse, nil)
	case !errors.Is(err, ErrNotFound):
		return socialFail(reasonServerError, err)
	}
	return s.linkSocialAccount(ctx, p, prof, u, now, true)
}

// usernameBase derives a username from the profile, like allauth: the provider's
// username, else the address's local part, else the name; only characters Django allows,
// lower-cased.
func usernameBase(prof *socialProfile, providerID string) string {
	local, _, _ := strings.Cut(prof.Email, "@")
	for _, cand := range []string{prof.Username, local, prof.FirstName + prof.LastName} {
		var b strings.Builder
		for _, r := range strings.ToLower(cand) {
			if unicode.IsLetter(r) || unicode.IsNumber(r) || strings.ContainsRune("_.@+-", r) {
				b.WriteRune(r)
			}
		}
		if out := clipRunes(b.String(), maxUsernameLength); out != "" && validate.Username(out) {
			return out
		}
	}
	return clipRunes(providerID+"-user", maxUsernameLength)
}
