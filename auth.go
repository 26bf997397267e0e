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
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	// mail holds the e-mail templates: the defaults merged with Config.Mail.Templates.
	mail map[MailKind]*MailTemplate
	// outbox is the worker delivering the mail in the store's outbox (mail_worker.go).
	outbox *mailWorker
	// cop refuses browsers' cross-origin unsafe requests on session-authenticated routes.
	cop *http.CrossOriginProtection
	// social holds the social login providers and flow state.
	social *socialService
	// verified remembers credentials sent with every request (Basic) for a minute.
	verified verifiedCredentials
	// tel holds the OpenTelemetry instruments and tracer (telemetry.go).
	tel *telemetry
	// hooks are test seams that count the work done before answering (mail_delivery.go).
	hooks serviceHooks
	// tokens is the token cache (token_cache.go); nil when Config.Tokens.Cache is off.
	tokens *tokenCache
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("restauth: invalid config")

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	site, err := url.Parse(cfg.SiteURL) // checked by withDefaults
	if err != nil {
		return nil, fmt.Errorf("%w: SiteURL: %v", ErrConfig, err)
	}
	mailTemplates, err := mergeMailTemplates(cfg.Mail.Templates)
	if err != nil {
		return nil, err
	}
	social, err := newSocialService(&cfg, site, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if err := resolveMagicLink(&cfg, site); err != nil {
		return nil, err
	}
	tel, err := newTelemetry(cfg.Telemetry)
	if err != nil {
		return nil, fmt.Errorf("%w: Telemetry: %v", ErrConfig, err)
	}
	hasher, err := newPasswordHasher(cfg.Passwords, tel.recordHashWait)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if err := tel.observeHashQueue(hasher.QueueDepth); err != nil {
		return nil, fmt.Errorf("%w: Telemetry: %v", ErrConfig, err)
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

	svc := &Service{
		cfg:       cfg,
		store:     meterStore(cfg.Store, tel.storeDuration),
		site:      site,
		hasher:    hasher,
		validator: newPasswordValidator(cfg.Passwords),
		sessions:  sessions,
		log:       cfg.Logger,
		now:       cfg.Now,
		mail:      mailTemplates,
		cop:       cop,
		outbox:    newMailWorker(),
		social:    social,
		tel:       tel,
	}
	if err := svc.startTokenCache(); err != nil {
		return nil, err
	}
	// The worker starts now, so that mail an earlier process left in the outbox goes out.
	svc.outbox.wake(svc)
	return svc, nil
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
