package restauth

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// This file settles a Config: validation and every default, in one place.

// withDefaults validates c and returns it with every default filled in, so that the
// Service fails at start-up rather than at the first request, and every later reader of
// the config sees one settled value. c is a copy: the host's Config is never changed (the
// slices, maps and pointers it holds are read, never written). The defaults that depend on
// other fields at the point of use stay there: SiteName (SiteURL's host, in mail) and
// MFA.Issuer (SiteName, else the host name without the port). Sessions are checked and
// built by newSessionManager, which also never writes the host's value.
func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if len(c.Secret) < 32 {
		return c, fmt.Errorf("%w: Secret must be at least 32 bytes", ErrConfig)
	}
	site, err := url.Parse(c.SiteURL)
	if err != nil || (site.Scheme != "http" && site.Scheme != "https") || site.Host == "" {
		return c, fmt.Errorf("%w: SiteURL must be an absolute http(s) URL", ErrConfig)
	}
	site.Path = strings.TrimSuffix(site.Path, "/")
	site.RawQuery, site.Fragment = "", ""
	c.SiteURL = site.String()

	defaultString(&c.ServerName, "InvenTree")
	defaultString(&c.Prefix, "/api/auth/")
	defaultString(&c.UserPrefix, "/api/user/")
	for _, p := range []string{c.Prefix, c.UserPrefix} {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
			return c, fmt.Errorf("%w: prefix %q must start and end with /", ErrConfig, p)
		}
	}
	switch c.EmailVerification {
	case "":
		c.EmailVerification = VerificationOptional
	case VerificationOptional, VerificationNone, VerificationMandatory:
	default:
		return c, fmt.Errorf("%w: unknown EmailVerification %q", ErrConfig, c.EmailVerification)
	}
	defaultDuration(&c.PasswordResetTimeout, 3*24*time.Hour)
	defaultDuration(&c.EmailConfirmationExpiry, 3*24*time.Hour)
	defaultString(&c.Tokens.Prefix, "inv-")
	defaultDuration(&c.Tokens.Lifetime, 365*24*time.Hour)
	defaultCap(&c.Tokens.MaxPerUser, 100)
	if c.Tokens.Cache.Size > 0 {
		defaultDuration(&c.Tokens.Cache.TTL, 5*time.Second)
	}
	defaultCap(&c.MaxEmailAddresses, 20)

	defaultString(&c.Links.PasswordReset, "/platform/set-password?uid={uid}&token={token}")
	// The confirmation page is served by Handler, so its default follows Prefix.
	defaultString(&c.Links.EmailConfirm, c.Prefix+confirmPagePath+"{key}/")
	defaultString(&c.Links.HeadlessEmailConfirm, "/account/verify-email/{key}")
	defaultString(&c.Links.HeadlessPasswordReset, "/account/password/reset/key/{key}")
	for field, tmpl := range map[string]string{"Links.HeadlessEmailConfirm": c.Links.HeadlessEmailConfirm, "Links.HeadlessPasswordReset": c.Links.HeadlessPasswordReset} {
		if err := checkLinkTemplate(field, tmpl, "{key}"); err != nil {
			return c, err
		}
	}
	defaultString(&c.Links.Login, "/platform/login")
	defaultString(&c.Links.AfterLogin, "/platform")
	if err := checkLinkTemplate("Links.PasswordReset", c.Links.PasswordReset, "{uid}", "{token}"); err != nil {
		return c, err
	}
	if err := checkLinkTemplate("Links.EmailConfirm", c.Links.EmailConfirm, "{key}"); err != nil {
		return c, err
	}
	if err := checkLinkTemplate("Links.AfterLogin", c.Links.AfterLogin); err != nil {
		return c, err
	}
	if err := checkLinkTemplate("Links.Login", c.Links.Login); err != nil {
		return c, err
	}

	if c.StoreTimeout == 0 {
		c.StoreTimeout = 5 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	defaultString(&c.Mail.SubjectPrefix, "[restauth] ")
	if c.Mail.Mailer == nil {
		c.Mail.Mailer = NewLogMailer(c.Logger)
	}
	if c.Mail.Outbox.Workers <= 0 {
		c.Mail.Outbox.Workers = 4
	}
	defaultDuration(&c.Mail.Outbox.SendTimeout, 10*time.Second)
	if c.Mail.Outbox.MaxAttempts <= 0 {
		c.Mail.Outbox.MaxAttempts = 8
	}
	defaultDuration(&c.Mail.Outbox.RetryDelay, 30*time.Second)
	defaultDuration(&c.Mail.Outbox.MaxRetryDelay, time.Hour)
	defaultDuration(&c.Mail.Outbox.PollInterval, 5*time.Second)

	// newSocialService checks the redirects (they must stay on SiteURL's origin).
	defaultString(&c.Social.LoginRedirect, "/platform/logged-in/")
	defaultString(&c.Social.ConnectRedirect, c.Social.LoginRedirect)
	defaultString(&c.Social.ErrorRedirect, "/platform/login?sso_error={reason}")

	defaultDuration(&c.ReauthenticationTimeout, DefaultReauthenticationTimeout)
	defaultDuration(&c.MFA.TrustCookieAge, DefaultMFATrustCookieAge)
	c.LoginByCode.withDefaults(180 * time.Second)
	c.PasswordResetByCode.withDefaults(180 * time.Second)
	c.EmailVerificationByCode.withDefaults(900 * time.Second)
	if c.JWT, err = c.JWT.withDefaults(); err != nil {
		return c, err
	}
	if err := c.webauthnDefaults(site); err != nil {
		return c, err
	}

	c.RateLimits = c.RateLimits.withDefaults()
	if err := c.RateLimits.validate(); err != nil {
		return c, err
	}
	if c.Limiter == nil {
		c.Limiter = NewMemoryLimiter(c.Now)
	}
	if c.Passwords, err = withPasswordDefaults(c.Passwords); err != nil {
		return c, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return c, nil
}

// webauthnDefaults checks Config.WebAuthn and fills in its defaults.
func (c *Config) webauthnDefaults(site *url.URL) error {
	w := &c.WebAuthn
	defaultDuration(&w.ChallengeLifetime, 5*time.Minute)
	switch {
	case w.PasskeySignup && !w.PasskeyLogin:
		return fmt.Errorf("%w: WebAuthn.PasskeySignup needs WebAuthn.PasskeyLogin", ErrConfig)
	case w.PasskeyLogin && !w.Enabled:
		return fmt.Errorf("%w: WebAuthn.PasskeyLogin needs WebAuthn.Enabled", ErrConfig)
	case w.Enabled && !c.MFA.Enabled:
		return fmt.Errorf("%w: WebAuthn.Enabled needs MFA.Enabled", ErrConfig)
	case !w.Enabled:
		return nil
	}
	origins := append([]string{site.Scheme + "://" + site.Host}, c.TrustedOrigins...)
	if _, err := newRelyingParty(site.Hostname(), "check", origins, *w); err != nil {
		return fmt.Errorf("%w: WebAuthn relying party from SiteURL: %v", ErrConfig, err)
	}
	return nil
}
