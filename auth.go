// Package restauth serves the /api/auth/ routes of InvenTree's REST API (version 291) —
// dj-rest-auth and django-allauth behaviour — for any Go web application: registration,
// login, logout, user details, password change and reset, e-mail addresses, API tokens,
// social accounts and TOTP, wire-compatible with clients written for InvenTree.
//
// Create a Service with New, mount Service.Handler under /api/auth/ and
// Service.UserHandler under /api/user/, and wrap the application's own routes in
// Service.Middleware; UserFromContext then tells who is calling (and false for an
// anonymous request).
//
// Every operation is a Service method (Register, Login, ChangePassword, IssueToken, …)
// that owns its rules: validation, rate limits, enumeration prevention, MFA gating, audit
// events and notices happen inside it, so calling it without HTTP is as safe as calling
// its route, and the HTTP handlers only translate. The client's address and user agent
// travel in the context: the handlers and Middleware put them there, and a host calling an
// operation for a remote client by other means names it with WithClient, or the
// per-address rate limits do not apply. Decisions are typed errors (ValidationError,
// ThrottledError, ErrThrottled, ErrEmailTaken, …), matched with errors.Is and errors.As.
//
// Accounts live in a Store, made of role interfaces (UserStore, EmailAddressStore,
// TokenStore, SocialAccountStore, MFAStore) and optionally a Transactor; package memstore
// holds one in memory, and the sqlitestore and pgstore modules persist them. Mail goes
// through a Mailer: NewLogMailer by default, the SMTP and directory mailers of package
// github.com/restauth/restauth/mail, or MailerFunc.
package restauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Version is the library's version, reported by the example server's /api/.
const Version = "0.1.0"

// APIVersion is the InvenTree API version whose /api/auth/ surface restauth serves.
const APIVersion = 291

// EmailVerification says how registration treats an unverified e-mail address.
type EmailVerification string

const (
	// VerificationOptional sends a confirmation mail but lets the user log in meanwhile (the default).
	VerificationOptional EmailVerification = "optional"
	// VerificationNone sends no confirmation mail at registration.
	VerificationNone EmailVerification = "none"
	// VerificationMandatory refuses login until an address is verified.
	VerificationMandatory EmailVerification = "mandatory"
)

// Config configures a Service. Store, Secret and SiteURL are required; every other field
// has a safe default, applied by New.
type Config struct {
	// Store persists accounts. Required (memstore.New() in tests).
	Store Store
	// Secret keys every HMAC the Service computes (password-reset tokens, confirmation keys,
	// session auth hashes). At least 32 bytes of randomness; keep it stable across restarts
	// and identical on every instance.
	Secret []byte
	// SiteURL is the absolute URL of the site (e.g. "https://example.com"). Links in e-mails
	// are built from it only, never from a request's Host header.
	SiteURL string

	// Prefix is the path Handler is mounted under. Default "/api/auth/".
	Prefix string
	// UserPrefix is the path UserHandler is mounted under. Default "/api/user/".
	UserPrefix string

	// DisableRegistration refuses POST registration/ with 400.
	DisableRegistration bool
	// EmailVerification is the registration verification mode. Default VerificationOptional.
	EmailVerification EmailVerification
	// AllowEnumeration turns off allauth's enumeration prevention at signup. By default,
	// with mandatory verification, registering an address another account holds verified
	// answers exactly like a successful registration, creates nothing, and mails the
	// address's owner a notice instead. (With optional or no verification a registration
	// answers with a token, which cannot be faked, so the 400 stays.)
	AllowEnumeration bool
	// AllowPasswordChangeWithoutOld lets password/change/ omit old_password, as the
	// reference does. Default false: the old password is required.
	AllowPasswordChangeWithoutOld bool
	// DisablePasswordReset turns password reset off: RequestPasswordReset and
	// ConfirmPasswordReset return ErrPasswordResetDisabled (password/reset/ and its confirm
	// route answer 400 with a non-field error), and providers/ reports
	// password_forgotten_enabled=false.
	DisablePasswordReset bool
	// RevokeCredentialsOnPasswordReset makes ConfirmPasswordReset also revoke the user's
	// API tokens and end their sessions (RevokeAllCredentials): a reset is often the
	// owner's answer to a compromise, and a token the intruder minted would survive it.
	// Default false, as the reference: a reset ends sessions (the password hash changes)
	// but keeps tokens, which scripts and CI hold and would all break.
	RevokeCredentialsOnPasswordReset bool
	// LoginByEmail lets a login name the account by e-mail address (LoginRequest.Email, the
	// login route's "email" field) as well as by username, like allauth's LOGIN_METHODS =
	// {"username", "email"}. Default false, as InvenTree 291: the email field is checked
	// and then ignored.
	LoginByEmail bool

	// Passwords configures hashing and validation.
	Passwords PasswordConfig

	// TokenPrefix starts every API token key. Default "inv-".
	TokenPrefix string
	// TokenLifetime is how long a new API token is valid. Default 365 days.
	TokenLifetime time.Duration
	// MaxTokensPerUser caps a user's active tokens: issuing one more revokes the least recently used. Default 100; -1: no cap.
	MaxTokensPerUser int

	// PasswordResetTimeout is how long a reset link is valid. Default 3 days.
	PasswordResetTimeout time.Duration
	// EmailConfirmationExpiry is how long a confirmation key is valid. Default 3 days.
	EmailConfirmationExpiry time.Duration
	// MaxEmailAddresses caps a user's addresses (allauth's ACCOUNT_MAX_EMAIL_ADDRESSES); adding more is refused. Default 20; -1: no cap.
	MaxEmailAddresses int
	// PasswordResetPath is appended to SiteURL to build reset links; {uid} and {token} are
	// replaced. Default "/platform/set-password?uid={uid}&token={token}".
	PasswordResetPath string
	// EmailConfirmPath is appended to SiteURL to build confirmation links; {key} is
	// replaced. Default "/platform/verify-email?key={key}".
	EmailConfirmPath string
	// Mailer sends e-mail. Default: a mailer that logs a one-line summary without secrets.
	Mailer Mailer
	// SendMailInRequest sends mail before answering the request. By default mail goes out
	// in the background, so neither the answer's timing nor a slow mail server reveals
	// whether an address has an account; tests set this to read mail right after a request.
	SendMailInRequest bool
	// MailSubjectPrefix starts every subject. Default "[restauth] ".
	MailSubjectPrefix string
	// MailTemplates replaces the built-in templates (DefaultMailTemplates) of the kinds it
	// holds; each needs Subject, Text and HTML and must render sample data, else New fails.
	MailTemplates map[MailKind]*MailTemplate
	// SiteName is the site's display name in e-mails. Default: SiteURL's host.
	SiteName string
	// DisableSecurityNotifications stops the notices mailed to a user's verified primary
	// address (else their oldest verified one; never an unverified address) when their password is changed or reset, their primary address changes (the notice
	// goes to the old one) or their MFA changes (MailPasswordChanged and the kinds after
	// it). By default they are sent, so that an account takeover does not go unnoticed.
	DisableSecurityNotifications bool

	// SSOEnabled and SSORegistration are reported by providers/. SSOEnabled also gates the
	// social login/connect flows; SSORegistration lets a social login create a user for a
	// provider account nobody has linked.
	SSOEnabled      bool
	SSORegistration bool

	// MFAEnabled turns on multi-factor authentication (reported by providers/ as
	// mfa_enabled): the mfa/totp/ and mfa/recovery-codes/ routes, and a second step at
	// login for users who activated TOTP — a login without mfa_code gets the reference's
	// 403 {"detail": "MFA required for this user"}, one with a current code (or an unused
	// recovery code) gets its token. Social logins of those users are refused: a provider
	// account must not be the way around their second factor. Tokens already issued stay
	// valid: a token is the result of a completed login.
	MFAEnabled bool
	// MFARequired (with MFAEnabled; providers/ reports mfa_required) requires a second
	// factor from every user: users who have not activated TOTP cannot log in, or use Basic
	// authentication anywhere except on the mfa/ routes, where they enrol with Basic
	// credentials; social logins are refused.
	MFARequired bool
	// MFAAllowBasic accepts Basic authentication from users with MFA. Basic sends the
	// password alone on every request, so accepting it lets anyone who has the password
	// skip the second factor (the reference does so); by default such requests get 403
	// "MFA required for this user", and scripts should log in once with mfa_code and use
	// the token.
	MFAAllowBasic bool
	// MFAIssuer names the site in authenticator apps (the otpauth:// issuer). Default:
	// SiteName, else SiteURL's host name (without the port).
	MFAIssuer string

	// SocialProviders are the single-sign-on providers, listed by providers/ in this order
	// (see SocialProvider and the presets GitHubProvider, GoogleProvider, …). New only
	// checks them; OpenID Connect discovery happens on first use.
	SocialProviders []SocialProvider
	// SocialLinkByVerifiedEmail lets a social login whose provider asserts the e-mail
	// address verified log into the user who holds that address verified, linking the
	// provider account. Default false: auto-linking by e-mail hands the local account to
	// whoever controls the provider account.
	SocialLinkByVerifiedEmail bool
	// SocialLoginRedirect is where a successful social login ends. A path ("/…") is put
	// after SiteURL; an absolute URL must be on SiteURL's origin. Default
	// "/platform/logged-in/" (InvenTree's page that restores the session).
	SocialLoginRedirect string
	// SocialConnectRedirect is where a successful connect ends. Default: SocialLoginRedirect.
	SocialConnectRedirect string
	// SocialErrorRedirect is where a failed social flow ends; "{reason}" is replaced by a
	// machine-readable reason (e.g. "state_mismatch", "access_denied",
	// "registration_closed"), else "sso_error=<reason>" is added to the query. Same rules
	// as SocialLoginRedirect. Default "/platform/login?sso_error={reason}".
	SocialErrorRedirect string
	// SocialHTTPClient talks to the providers. Default: a client with a 10 s timeout.
	// Answers are capped at 1 MiB.
	SocialHTTPClient *http.Client

	// Sessions configures the browser login sessions (the "sessionid" cookie).
	Sessions SessionConfig
	// TrustedOrigins are extra origins (scheme://host[:port]) allowed to make
	// session-authenticated unsafe requests, browser posts to login/ and registration/,
	// and to start social login/connect; SiteURL's origin is always trusted.
	TrustedOrigins []string

	// RateLimits is the table of rate limits (allauth's defaults); a zero rule takes its
	// default, a rule with Limit -1 is off. Refused requests get 429 with Retry-After.
	RateLimits RateLimits
	// Limiter counts events for RateLimits. Default: in memory, per instance; use
	// redislimit.New for limits shared by many instances.
	Limiter Limiter
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed when
	// finding a client's address for rate limits; by default only RemoteAddr counts.
	TrustedProxies []netip.Prefix

	// MaxBodyBytes bounds request bodies; larger ones get 413. Default 1 MiB.
	MaxBodyBytes int64
	// Logger receives operational logs; never passwords, tokens, keys or session ids.
	// Default slog.Default().
	Logger *slog.Logger
	// Audit receives the audit events (logins, logouts, password and e-mail changes,
	// tokens, social accounts, throttling); see AuditEvent. It is called synchronously on
	// the request's goroutine, so it must be fast and must not block (hand events to a
	// buffered channel or a queue for slow sinks); it must be safe for concurrent use.
	// Default: each event is logged at Info level to Logger.
	Audit func(ctx context.Context, e AuditEvent)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Service implements every operation; it is safe for concurrent use.
type Service struct {
	cfg       Config
	store     Store
	site      *url.URL
	hasher    *passwordHasher
	validator *passwordValidator
	sessions  *scs.SessionManager
	log       *slog.Logger
	now       func() time.Time
	// mail holds the e-mail templates: the defaults merged with Config.MailTemplates.
	mail map[MailKind]*MailTemplate
	// mailSlots bounds background deliveries; mailWG lets Close wait for them.
	mailSlots chan struct{}
	hooks     serviceHooks // test seams (mail_delivery.go)
	mailWG    sync.WaitGroup
	// cop refuses browsers' cross-origin unsafe requests on session-authenticated routes.
	cop *http.CrossOriginProtection
	// social holds the social login providers and flow state.
	social *socialService
	// verified remembers credentials sent with every request (Basic) for a minute.
	verified verifiedCredentials
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("restauth: invalid config")

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Store is required", ErrConfig)
	}
	if len(cfg.Secret) < 32 {
		return nil, fmt.Errorf("%w: Secret must be at least 32 bytes", ErrConfig)
	}
	site, err := url.Parse(cfg.SiteURL)
	if err != nil || (site.Scheme != "http" && site.Scheme != "https") || site.Host == "" {
		return nil, fmt.Errorf("%w: SiteURL must be an absolute http(s) URL", ErrConfig)
	}
	site.Path = strings.TrimSuffix(site.Path, "/")
	site.RawQuery, site.Fragment = "", ""
	cfg.SiteURL = site.String()

	defaultString(&cfg.Prefix, "/api/auth/")
	defaultString(&cfg.UserPrefix, "/api/user/")
	for _, p := range []string{cfg.Prefix, cfg.UserPrefix} {
		if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") {
			return nil, fmt.Errorf("%w: prefix %q must start and end with /", ErrConfig, p)
		}
	}
	switch cfg.EmailVerification {
	case "":
		cfg.EmailVerification = VerificationOptional
	case VerificationOptional, VerificationNone, VerificationMandatory:
	default:
		return nil, fmt.Errorf("%w: unknown EmailVerification %q", ErrConfig, cfg.EmailVerification)
	}
	defaultString(&cfg.TokenPrefix, "inv-")
	defaultDuration(&cfg.TokenLifetime, 365*24*time.Hour)
	defaultDuration(&cfg.PasswordResetTimeout, 3*24*time.Hour)
	defaultDuration(&cfg.EmailConfirmationExpiry, 3*24*time.Hour)
	defaultCap(&cfg.MaxTokensPerUser, 100)
	defaultCap(&cfg.MaxEmailAddresses, 20)
	defaultString(&cfg.PasswordResetPath, "/platform/set-password?uid={uid}&token={token}")
	defaultString(&cfg.EmailConfirmPath, "/platform/verify-email?key={key}")
	defaultString(&cfg.MailSubjectPrefix, "[restauth] ")
	if err := checkLinkTemplate("PasswordResetPath", cfg.PasswordResetPath, "{uid}", "{token}"); err != nil {
		return nil, err
	}
	if err := checkLinkTemplate("EmailConfirmPath", cfg.EmailConfirmPath, "{key}"); err != nil {
		return nil, err
	}
	mailTemplates, err := mergeMailTemplates(cfg.MailTemplates)
	if err != nil {
		return nil, err
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Mailer == nil {
		cfg.Mailer = NewLogMailer(cfg.Logger)
	}
	social, err := newSocialService(&cfg, site, cfg.Logger)
	if err != nil {
		return nil, err
	}
	cfg.RateLimits = cfg.RateLimits.withDefaults()
	if err := cfg.RateLimits.validate(); err != nil {
		return nil, err
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewMemoryLimiter(cfg.Now)
	}
	hasher, err := newPasswordHasher(cfg.Passwords)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	sessions, err := newSessionManager(&cfg.Sessions, site, cfg.Logger)
	if err != nil {
		return nil, err
	}

	cop := http.NewCrossOriginProtection()
	for _, o := range append([]string{site.Scheme + "://" + site.Host}, cfg.TrustedOrigins...) {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("%w: trusted origin %q: %v", ErrConfig, o, err)
		}
		// Browsers send origins in canonical form (lower case, no default port), and
		// CrossOriginProtection compares strings.
		if k := originKey(o); k != "" && k != o {
			if err := cop.AddTrustedOrigin(k); err != nil {
				return nil, fmt.Errorf("%w: trusted origin %q: %v", ErrConfig, o, err)
			}
		}
	}

	return &Service{
		cfg:       cfg,
		store:     cfg.Store,
		site:      site,
		hasher:    hasher,
		validator: newPasswordValidator(cfg.Passwords),
		sessions:  sessions,
		log:       cfg.Logger,
		now:       cfg.Now,
		mail:      mailTemplates,
		cop:       cop,
		mailSlots: make(chan struct{}, maxMailsInFlight),
		social:    social,
	}, nil
}

func defaultString(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

func defaultDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// defaultCap sets an unset (zero) cap to def; a negative cap stays, meaning none.
func defaultCap(n *int, def int) {
	if *n == 0 {
		*n = def
	}
}
