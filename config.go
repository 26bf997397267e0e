package restauth

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Config configures a Service. Store, Secret and SiteURL are required; every other field
// has a safe default, applied by New. Settings that belong to one feature are grouped
// (Passwords, Tokens, Links, Mail, Social, MFA, RateLimits), so that a host sets a feature
// in one place and each group documents its own defaults.
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
	// SiteName is the site's display name in e-mails, and the "instance" GET /api/
	// reports. Default: SiteURL's host.
	SiteName string
	// ServerName is the "server" GET /api/ reports (Service.APIHandler). Default
	// "InvenTree": InvenTree's clients look for it (its Python client warns on any other
	// name), so change it only for clients that do not.
	ServerName string

	// Prefix is the path Handler is mounted under. Default "/api/auth/".
	Prefix string
	// UserPrefix is the path UserHandler is mounted under. Default "/api/user/".
	UserPrefix string

	// DisableRegistration refuses POST registration/ with 400.
	DisableRegistration bool
	// RegistrationTokenAnswer makes registration/ answer 201 {"key": …} (a new API token)
	// when verification is not mandatory, as dj-rest-auth does with SESSION_LOGIN off, for
	// API-only hosts whose clients keep no cookies. Default false: 204 with no body and the
	// session logged in, as dj-rest-auth with InvenTree's SESSION_LOGIN on (its web UI
	// takes only a 204 as success), and no token is issued. Either way the new user's
	// session is logged in, as allauth's complete_signup does.
	RegistrationTokenAnswer bool
	// EmailVerification is the registration verification mode. Default VerificationOptional.
	EmailVerification EmailVerification
	// AllowEnumeration turns off allauth's enumeration prevention at signup. By default,
	// with mandatory verification, registering an address another account holds verified
	// answers exactly like a successful registration, creates nothing, and mails the
	// address's owner a notice instead. (With optional or no verification a registration
	// logs the new account in, which cannot be faked, so the 400 stays.)
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
	// ReauthenticationTimeout is how long a login or re-authentication counts as recent
	// (RecentlyAuthenticated; allauth's ACCOUNT_REAUTHENTICATION_TIMEOUT). Default 300 s.
	ReauthenticationTimeout time.Duration
	// PasswordResetTimeout is how long a reset link is valid. Default 3 days.
	PasswordResetTimeout time.Duration
	// EmailConfirmationExpiry is how long a confirmation key is valid. Default 3 days.
	EmailConfirmationExpiry time.Duration
	// MaxEmailAddresses caps a user's addresses (allauth's ACCOUNT_MAX_EMAIL_ADDRESSES);
	// adding more is refused. Default 20; -1: no cap.
	MaxEmailAddresses int

	// Passwords configures hashing and validation.
	Passwords PasswordConfig
	// Tokens configures the API tokens.
	Tokens TokenConfig
	// Links are the site pages the links in e-mails point to.
	Links LinkConfig
	// Mail configures e-mail delivery, templates and security notices.
	Mail MailConfig
	// Social configures single sign-on with social or OpenID Connect providers.
	Social SocialConfig
	// MFA configures multi-factor authentication.
	MFA MFAConfig
	// JWT configures the JSON Web Tokens of app clients (IssueJWT, RefreshJWT,
	// AuthenticateJWT; allauth's JWTTokenStrategy); see JWTConfig.
	JWT JWTConfig
	// LoginByCode lets a user log in with a code mailed to their address (allauth's
	// LOGIN_BY_CODE_ENABLED; RequestLoginCode); off by default.
	LoginByCode CodeConfig
	// PasswordResetByCode mails a code instead of a link to reset a password (allauth's
	// ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED; RequestPasswordResetCode); off by default.
	PasswordResetByCode CodeConfig
	// EmailVerificationByCode mails a code instead of a link to verify an address
	// (allauth's ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED;
	// RequestEmailVerificationCode); off by default. When on, the operations that mail
	// confirmation links (Register, AddEmailAddress, RequestVerification,
	// ResendVerification) mail none: the dialect asks for a code instead.
	EmailVerificationByCode CodeConfig
	// WebAuthn configures security keys and passkeys (WebAuthn); off by default (see
	// WebAuthnConfig).
	WebAuthn WebAuthnConfig
	// MagicLink configures the magic-link login (InvenTree's "Send me an e-mail"); off by
	// default (see MagicLinkConfig).
	MagicLink MagicLinkConfig

	// Sessions configures the browser login sessions (the "sessionid" cookie); restauth
	// builds the session manager from it (see SessionConfig).
	Sessions SessionConfig
	// Dialects is the one table of the settings in which the wire dialects behave
	// differently by design (see DialectConfig).
	Dialects DialectConfig
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
	// A peer that is not an IP address (a proxy on a Unix socket) cannot be listed here:
	// see TrustSocketProxy.
	TrustedProxies []netip.Prefix
	// TrustSocketProxy makes a peer that is not an IP address — a reverse proxy
	// connected over a Unix socket — a trusted proxy, whose X-Forwarded-For is read as
	// for TrustedProxies. Without it such requests have no client address, so the
	// per-address limits do not apply to them at all (only the per-account ones do).
	// Set it only when nothing but the proxy can connect to the socket.
	TrustSocketProxy bool

	// StoreTimeout bounds the work of each request the handlers and Middleware serve: one
	// deadline per request (not one per store call), set when restauth starts handling it,
	// which every store call, session load and save, and wait for a hashing slot of the
	// request runs under. When it passes, the request answers 503 with Retry-After and the
	// failure is logged, instead of waiting as long as a frozen database does. Middleware
	// bounds only its own authentication: the host's handler gets the request's context
	// without this deadline. Background work (mail) has its own bound. Default 5 s; -1: no
	// deadline beyond the client's and the host's own.
	StoreTimeout time.Duration
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
	// Telemetry names the OpenTelemetry providers restauth's metrics and spans go to (see
	// TelemetryConfig and the README's "Metrics and traces").
	Telemetry TelemetryConfig
	// Roles supplies a user's authorization, which GET /api/user/roles/ reports (InvenTree's
	// web UI reads it after login to decide which sections to show); restauth holds no
	// authorization model of its own. It is called for the authenticated caller only; an
	// error answers 500. Default DefaultRoles: a superuser holds every role with every
	// permission, everyone else none.
	Roles func(ctx context.Context, u *User) (Roles, error)
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// TokenConfig configures the API tokens (Config.Tokens).
type TokenConfig struct {
	// Prefix starts every API token key. Default "inv-".
	Prefix string
	// Lifetime is how long a new API token is valid. Default 365 days.
	Lifetime time.Duration
	// MaxPerUser caps a user's active tokens: issuing one more revokes the least recently
	// used (every login issues a token, so refusing would lock users out). Default 100;
	// -1: no cap.
	MaxPerUser int
	// Cache keeps recently authenticated tokens with their users in memory (see
	// TokenCacheConfig). Off unless Cache.Size is set.
	Cache TokenCacheConfig
}

// TokenCacheConfig configures the in-process token cache (Config.Tokens.Cache): token
// authentication then skips the store for a token seen within TTL.
//
// It is off by default. On this instance it is always exact: every Store write that can
// change what a token authenticates as (a revoked token, a changed, deactivated or
// deleted user, a changed address, password or second factor) forgets the user's
// entries at once, whichever operation made it. A change made by another instance, or by
// anything writing the database directly, is seen at once only when the store tells the
// cache (InvalidationNotifier: pgstore does); otherwise it is seen within TTL at the
// latest. Turning the cache on is therefore a decision about how long a revocation
// elsewhere may lag, which only the host can make, and which it should make knowing its
// store; and for memstore, where the store is a map in this process, it saves nothing.
type TokenCacheConfig struct {
	// Size is how many tokens the cache holds at most; when full, an arbitrary entry
	// makes room. 0 (the default): no cache.
	Size int
	// TTL is how long an entry is used before the store is asked again: the longest a
	// change another instance made goes unseen when the store cannot report it. Default
	// 5 s.
	TTL time.Duration
	// OnInvalidate, if set, is called after the cache forgot what the store reported
	// another process changed (InvalidationNotifier): with the user's id, or 0 for
	// everything. It runs on the store's watch goroutine and must not block; it is meant
	// for metrics and for tests that wait on the event rather than on a clock.
	OnInvalidate func(userID int64)
}

// LinkConfig holds the site pages the links in e-mails point to (Config.Links). Each is a
// path appended to SiteURL, never a full URL, so no configuration can send a user's reset
// token to another host; {name} placeholders are replaced, escaped.
type LinkConfig struct {
	// PasswordReset builds reset links; {uid} and {token} are replaced. Default
	// "/platform/set-password?uid={uid}&token={token}".
	PasswordReset string
	// EmailConfirm builds confirmation links; {key} is replaced. Default
	// Prefix + "registration/account-confirm-email/{key}/" (by default
	// "/api/auth/registration/account-confirm-email/{key}/"): restauth's own confirmation
	// page, at the reference's route, so a link works without a page of the host's. A host
	// with its own page points this at it and posts the key to verify-email/.
	EmailConfirm string
	// HeadlessEmailConfirm builds the confirmation links of mails sent from a flow the
	// headless dialect started (allauth's HEADLESS_FRONTEND_URLS account_confirm_email);
	// {key} is replaced. Default "/account/verify-email/{key}": the front end's page,
	// which posts the key to auth/email/verify.
	HeadlessEmailConfirm string
	// HeadlessPasswordReset builds the reset links of mails sent from a flow the headless
	// dialect started (account_reset_password_from_key); {key} is replaced by the
	// one-part key "{uid}-{token}". Default "/account/password/reset/key/{key}".
	HeadlessPasswordReset string
	// Login is the login page the confirmation page sends the browser to once the address
	// is verified. Default "/platform/login" (InvenTree's web UI).
	Login string
	// AfterLogin is the page the second-factor page (Prefix + "login/mfa/", the `mfa`
	// flow of login/) sends the browser to once the session is logged in. Default
	// "/platform" (the reference's allauth_2fa_login redirect).
	AfterLogin string
}

// MailConfig configures e-mail (Config.Mail).
type MailConfig struct {
	// Mailer sends e-mail. Default: a mailer that logs a one-line summary without secrets.
	Mailer Mailer
	// SendInRequest sends mail before answering the request. By default mail goes out
	// in the background, so neither the answer's timing nor a slow mail server reveals
	// whether an address has an account; tests set this to read mail right after a request.
	SendInRequest bool
	// SubjectPrefix starts every subject. Default "[restauth] ".
	SubjectPrefix string
	// Templates replaces the built-in templates (DefaultMailTemplates) of the kinds it
	// holds; each needs Subject, Text and HTML and must render sample data, else New fails.
	// Keep links and codes out of a Subject: subjects are logged (the log mailer, the
	// default, logs recipient and subject) and shown in mail lists.
	Templates map[MailKind]*MailTemplate
	// DisableSecurityNotifications stops the notices mailed to a user's verified primary
	// address (else their oldest verified one; never an unverified address) when their
	// password is changed or reset, their primary address changes (the notice goes to the
	// old one) or their MFA changes (MailPasswordChanged and the kinds after it). By
	// default they are sent, so that an account takeover does not go unnoticed.
	DisableSecurityNotifications bool
	// Outbox configures the delivery of queued mail.
	Outbox OutboxConfig
}

// OutboxConfig configures the outbox worker (Config.Mail.Outbox), which delivers the mail
// requests queue in the store's outbox (OutboxStore): in the background, with retries.
type OutboxConfig struct {
	// Workers is how many mails are sent at once. Default 4.
	Workers int
	// SendTimeout bounds one attempt at one mail (lookups, rendering, sending). Default
	// 10 s, as the SMTP mailer's own default.
	SendTimeout time.Duration
	// MaxAttempts is how often a mail is tried before it is given up (logged and audited
	// as AuditMailGivenUp). Default 8.
	MaxAttempts int
	// RetryDelay is the wait after the first failed attempt; it doubles after each one,
	// up to MaxRetryDelay. Defaults 30 s and 1 h (8 attempts span about an hour).
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// PollInterval is how often the worker looks for mail that became due (a retry) or
	// that another instance queued; mail queued by this Service wakes it at once.
	// Default 5 s.
	PollInterval time.Duration
}

// SocialConfig configures single sign-on (Config.Social).
type SocialConfig struct {
	// Enabled and Registration are reported by providers/ (sso_enabled,
	// sso_registration). Enabled also gates the social login/connect flows; Registration
	// lets a social login create a user for a provider account nobody has linked.
	Enabled      bool
	Registration bool
	// Providers are the single-sign-on providers, listed by providers/ in this order
	// (see SocialProvider and the presets GitHubProvider, GoogleProvider, …). New only
	// checks them; OpenID Connect discovery happens on first use.
	Providers []SocialProvider
	// LinkByVerifiedEmail lets a social login whose provider asserts the e-mail address
	// verified log into the user who holds that address verified, linking the provider
	// account. Default false: auto-linking by e-mail hands the local account to whoever
	// controls the provider account.
	LinkByVerifiedEmail bool
	// SignupForm asks the user of a new provider account for their address and username
	// before the account is created (allauth's SOCIALACCOUNT_AUTO_SIGNUP = False), where
	// the dialect offers that step (headless: provider_signup); the 291 dialect's flows
	// create the user at once. Default false.
	SignupForm bool
	// LoginRedirect is where a successful social login ends. A path ("/…") is put after
	// SiteURL; an absolute URL must be on SiteURL's origin. Default "/platform/logged-in/"
	// (InvenTree's page that restores the session).
	LoginRedirect string
	// ConnectRedirect is where a successful connect ends. Default: LoginRedirect.
	ConnectRedirect string
	// ErrorRedirect is where a failed social flow ends; "{reason}" is replaced by a
	// machine-readable reason (e.g. "state_mismatch", "access_denied",
	// "registration_closed"), else "sso_error=<reason>" is added to the query. Same rules
	// as LoginRedirect. Default "/platform/login?sso_error={reason}".
	ErrorRedirect string
	// HTTPClient talks to the providers. Default: a client with a 10 s timeout. Answers
	// are capped at 1 MiB.
	HTTPClient *http.Client
}

// MFAConfig configures multi-factor authentication (Config.MFA).
type MFAConfig struct {
	// Enabled turns on multi-factor authentication (reported by providers/ as
	// mfa_enabled): the mfa/totp/ and mfa/recovery-codes/ routes, and a second step at
	// login for users who activated TOTP — a login without mfa_code gets the reference's
	// 403 {"detail": "MFA required for this user"}, one with a current code (or an unused
	// recovery code) gets its token. Social logins of those users are refused: a provider
	// account must not be the way around their second factor. Tokens already issued stay
	// valid: a token is the result of a completed login.
	Enabled bool
	// Required (with Enabled; providers/ reports mfa_required) requires a second factor
	// from every user: users who have not activated TOTP cannot log in, or use Basic
	// authentication anywhere except on the mfa/ routes, where they enrol with Basic
	// credentials; social logins are refused.
	Required bool
	// AllowBasic accepts Basic authentication from users with MFA. Basic sends the
	// password alone on every request, so accepting it lets anyone who has the password
	// skip the second factor (the reference does so); by default such requests get 403
	// "MFA required for this user", and scripts should log in once with mfa_code and use
	// the token.
	AllowBasic bool
	// TrustEnabled lets a user who passed their second factor have the client trusted
	// (allauth's MFA_TRUST_ENABLED; IssueMFATrust): a later login of theirs that presents
	// the trust token skips the second factor. Default false.
	TrustEnabled bool
	// TrustCookieAge is how long a trust token is valid. Default 14 days
	// (MFA_TRUST_COOKIE_AGE).
	TrustCookieAge time.Duration
	// Issuer names the site in authenticator apps (the otpauth:// issuer). Default:
	// SiteName, else SiteURL's host name (without the port).
	Issuer string
}

// WebAuthnConfig configures WebAuthn security keys and passkeys (Config.WebAuthn). The
// relying party is the site: its id is SiteURL's host name (so SiteURL must name a host,
// not an IP address; "localhost" works for development), and the origins a browser may
// run a ceremony from are SiteURL's origin and Config.TrustedOrigins.
type WebAuthnConfig struct {
	// Enabled (with MFA.Enabled) lets users add WebAuthn credentials and use them as a
	// second factor, counted like TOTP (allauth's "webauthn" in MFA_SUPPORTED_TYPES).
	Enabled bool
	// PasskeyLogin (with Enabled) lets a passkey log in alone, without a username or
	// password (allauth's MFA_PASSKEY_LOGIN_ENABLED). Default false.
	PasskeyLogin bool
	// PasskeySignup (with PasskeyLogin) lets a new user sign up with a passkey instead of
	// a password, once their address is verified by code (allauth's
	// MFA_PASSKEY_SIGNUP_ENABLED). Default false.
	PasskeySignup bool
	// RPName is the relying party's name the browser shows. Default: SiteName, else
	// SiteURL's host name.
	RPName string
	// ChallengeLifetime is how long a ceremony's challenge can be answered. Default 5 min.
	ChallengeLifetime time.Duration
}

// TelemetryConfig names where restauth's OpenTelemetry metrics and spans go
// (Config.Telemetry). Unset providers are otel's global ones (otel.GetMeterProvider,
// otel.GetTracerProvider), which do nothing, at no cost, until the host installs real
// ones; a host that does (otel.SetMeterProvider) needs to set nothing here.
type TelemetryConfig struct {
	// MeterProvider receives the metrics. Default otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider receives the spans, one per Service operation ("restauth.Login", …).
	// Default otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
}
