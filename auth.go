// Package restauth serves the /api/auth/ routes of InvenTree's REST API (version 291) —
// dj-rest-auth and django-allauth behaviour — for any Go web application: registration,
// login, logout, user details, password change and reset, e-mail addresses, API tokens and
// social accounts, wire-compatible with clients written for InvenTree.
//
// Create a Service with New, mount Service.Handler under /api/auth/ and
// Service.UserHandler under /api/user/, and wrap the application's own routes in
// Service.Middleware; UserFromContext then tells who is calling. Every operation is also a
// Service method, usable without HTTP.
package restauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
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
	// mailSlots bounds background deliveries; mailWG lets Close wait for them.
	mailSlots chan struct{}
	mailWG    sync.WaitGroup
	// cop refuses browsers' cross-origin unsafe requests on session-authenticated routes.
	cop *http.CrossOriginProtection
	// social holds the social login providers and flow state.
	social *socialService
}

// ErrConfig is wrapped by every error New returns.
var ErrConfig = errors.New("restauth: invalid config")

// New validates cfg, fills in defaults and returns a Service.
func New(cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	// withDefaults has cleaned SiteURL, so it parses.
	site, err := url.Parse(cfg.SiteURL)
	if err != nil {
		return nil, fmt.Errorf("%w: SiteURL: %v", ErrConfig, err)
	}
	mailTemplates, err := mergeMailTemplates(cfg.Mail.Templates)
	if err != nil {
		return nil, err
	}
	social, err := newSocialService(cfg.Social, cfg.TrustedOrigins, site, cfg.Logger)
	if err != nil {
		return nil, err
	}
	hasher, err := newPasswordHasher(cfg.Passwords)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	defaultDuration(&cfg.SessionLifetime, 14*24*time.Hour)
	if cfg.SessionIdleTimeout < 0 {
		return nil, fmt.Errorf("%w: SessionIdleTimeout must not be negative", ErrConfig)
	}
	if cfg.Sessions == nil {
		sm := scs.New()
		sm.Store = memstore.New()
		sm.Lifetime = cfg.SessionLifetime
		sm.IdleTimeout = cfg.SessionIdleTimeout
		sm.Cookie.Path = "/"
		sm.Cookie.SameSite = http.SameSiteLaxMode
		sm.Cookie.Secure = site.Scheme == "https"
		cfg.Sessions = sm
	}
	// Django's cookie name, which InvenTree clients look for.
	cfg.Sessions.Cookie.Name = "sessionid"
	cfg.Sessions.Cookie.HttpOnly = true

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
		sessions:  cfg.Sessions,
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

// Sessions returns the session manager, for a host app that wants to read or store its own
// values in the same session.
func (s *Service) Sessions() *scs.SessionManager { return s.sessions }
