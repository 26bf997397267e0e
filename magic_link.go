package restauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/magictoken"
	"github.com/restauth/restauth/internal/ratekey"
	"github.com/restauth/restauth/internal/sso"
)

// This file holds the magic-link login operations behind InvenTree's "Send me an e-mail"
// (its GetSimpleLoginView and django-sesame's LoginView, served by http_291_magic.go):
// RequestMagicLink mails a login link, MagicLogin checks the link's token. The token is
// stateless, as sesame's: an HMAC binding the user, their password hash, their last login
// and their addresses, so that the login it allows (which records a new last login) is
// also what kills it.

// MagicLinkConfig configures the magic-link login (Config.MagicLink). It is off by default:
// a link in a mailbox is as good as the password, so a host turns it on knowingly.
type MagicLinkConfig struct {
	// Enabled serves POST /api/email/generate/ and GET /api/email/login/ under
	// Service.APIHandler, and lets RequestMagicLink and MagicLogin work; without it the
	// routes answer InvenTree's JSON 404 and the operations return ErrMagicLinkDisabled.
	Enabled bool
	// Lifetime is how long a link is valid. Default 300 s, as InvenTree's SESAME_MAX_AGE.
	Lifetime time.Duration
	// LoginRedirect is where a successful magic login ends. A path ("/…") is put after
	// SiteURL; an absolute URL must be on SiteURL's origin. Default: Social.LoginRedirect
	// ("/platform/logged-in/", InvenTree's page that restores the session), which is where
	// the reference's /api/auth/login-redirect/ sends the web UI.
	LoginRedirect string
	// ErrorRedirect is where a refused link ends; "{reason}" is replaced by "invalid_link"
	// (malformed, tampered, expired or already used) or "mfa_required" (the user has a
	// second factor, which a link must not get around), else "magic_link_error=<reason>" is
	// added to the query. Same rules as LoginRedirect. Default
	// "/platform/login?magic_link_error={reason}".
	ErrorRedirect string
}

// DefaultMagicLinkLifetime is MagicLinkConfig.Lifetime's default, InvenTree's
// SESAME_MAX_AGE.
const DefaultMagicLinkLifetime = 300 * time.Second

// magicLinkPath is the link a magic-link mail carries, below SiteURL: the route of
// http_291_magic.go under APIHandler, with django-sesame's parameter name.
const magicLinkPath = apiRoot + "email/login/?sesame={token}"

var (
	// ErrMagicLinkDisabled is returned by RequestMagicLink and MagicLogin unless
	// Config.MagicLink.Enabled is set.
	ErrMagicLinkDisabled = errors.New("restauth: magic-link login is disabled")
	// ErrMagicLinkInvalid is returned by MagicLogin for a token that is malformed,
	// tampered, expired, already used (the user logged in since it was made), or whose
	// user changed their password or addresses, is inactive or no longer exists.
	ErrMagicLinkInvalid = errors.New("restauth: invalid or expired magic link")
)

// resolveMagicLink fills in MagicLinkConfig's defaults on New's copy of the Config and
// makes its redirects absolute URLs on SiteURL's origin, as newSocialService does for the
// social ones (which must already be resolved: LoginRedirect defaults to Social's).
func resolveMagicLink(cfg *Config, site *url.URL) error {
	m := &cfg.MagicLink
	defaultDuration(&m.Lifetime, DefaultMagicLinkLifetime)
	defaultString(&m.LoginRedirect, cfg.Social.LoginRedirect)
	defaultString(&m.ErrorRedirect, "/platform/login?magic_link_error={reason}")
	if !strings.Contains(m.ErrorRedirect, "{reason}") {
		m.ErrorRedirect = sso.AddQueryParam(m.ErrorRedirect, "magic_link_error", "{reason}")
	}
	for _, r := range []struct {
		field string
		v     *string
	}{{"MagicLink.LoginRedirect", &m.LoginRedirect}, {"MagicLink.ErrorRedirect", &m.ErrorRedirect}} {
		abs, ok := sso.SiteRedirect(site, *r.v)
		if !ok {
			return fmt.Errorf("%w: %s must be a path starting with / or an absolute URL on SiteURL's origin", ErrConfig, r.field)
		}
		*r.v = abs
	}
	return nil
}

// RequestMagicLink mails a one-time login link to the address when exactly one active
// user holds it verified (the reference matches User.email exactly and fails with two
// holders; restauth needs the address proven, since the link logs its holder in, and
// mails nobody when it is ambiguous). The link is valid for Config.MagicLink.Lifetime and
// for one login.
//
// The result never tells whether a mail was sent, nor does its timing: it works as
// RequestPasswordReset does — the requests count towards RateLimits.ResetPerIP and
// ResetPerEmail (a magic link is a reset's twin: a mailed way in, so the two share their
// counts), and then only a background job is queued, the same for every address; the
// lookup, the token and the rendering run in it. email must not be empty; it is not
// checked further (the reference's field is a CharField): an invalid address matches
// nobody. Without Config.MagicLink.Enabled it returns ErrMagicLinkDisabled.
func (s *Service) RequestMagicLink(ctx context.Context, email string) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RequestMagicLink")
	defer opSpan.end(&opErr)
	if !s.cfg.MagicLink.Enabled {
		return ErrMagicLinkDisabled
	}
	if err := s.throttleAddr(ctx, s.cfg.RateLimits.ResetPerIP); err != nil {
		return err
	}
	if strings.TrimSpace(email) == "" {
		return fieldError("email", msgBlank)
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResetPerEmail, s.emailKey(email)); err != nil {
		return err
	}
	s.queueMail(ctx, mailIntent{job: jobMagicLink, email: email})
	return nil
}

// mailMagicLink is RequestMagicLink's job (jobMagicLink): it finds the one account
// holding the address verified, mints its token and mails the link. nil when there is
// nobody to mail; an error is retried by the worker: the request has been answered.
func (s *Service) mailMagicLink(ctx context.Context, email string) error {
	u, to, err := s.soleVerifiedHolder(ctx, email)
	if err != nil {
		return fmt.Errorf("restauth: look up the account for a magic link: %w", err)
	}
	if u == nil {
		return nil
	}
	emails, err := s.emailList(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("restauth: look up the account for a magic link: %w", err)
	}
	s.hooks.mint(ctx)
	token := magictoken.New(s.cfg.Secret, u.ID, s.now().Unix(), magicBound(u, emails))
	link := s.siteLink(magicLinkPath, map[string]string{"token": token})
	return s.sendNow(ctx, MailMagicLink, u, MailData{Email: to, Link: link})
}

// soleVerifiedHolder returns the one active user holding email verified, with their own
// spelling of it; nil when nobody or more than one does (then nobody is mailed: the link
// must name its account without doubt).
func (s *Service) soleVerifiedHolder(ctx context.Context, email string) (*User, string, error) {
	users, err := s.store.UsersByEmail(ctx, email)
	if err != nil {
		return nil, "", err
	}
	var found *User
	var to string
	for _, u := range users {
		if !u.IsActive {
			continue
		}
		addrs, err := s.store.EmailAddresses(ctx, u.ID)
		if err != nil {
			return nil, "", err
		}
		i := slices.IndexFunc(addrs, func(a EmailAddress) bool { return a.Verified && equalFoldEmail(a.Email, email) })
		if i < 0 {
			continue
		}
		if found != nil {
			s.log.WarnContext(ctx, "restauth: magic link not sent: several accounts hold the address verified")
			return nil, "", nil
		}
		found, to = u, addrs[i].Email
	}
	return found, to, nil
}

// magicBound is what of u a magic link's token is bound to (internal/magictoken): the
// password hash, the last login and the addresses.
func magicBound(u *User, emails []string) magictoken.Bound {
	return magictoken.Bound{PasswordHash: u.PasswordHash, LastLogin: u.LastLogin, Emails: emails}
}

// MagicLogin checks the token of a magic link and returns its user, recording the login
// (User.LastLogin), which makes this link and every other one issued before unusable, as
// django-sesame's one-time tokens (and password-reset links, which die the same way). The
// caller opens the session. The token is also claimed in Config.Limiter (atomic, and
// shared by instances with redislimit), so that two requests racing with one link cannot
// both log in. It emits AuditLoginSucceeded with "method=magic_link".
//
// Errors: ErrMagicLinkInvalid (see there); a *PermissionError matching ErrMFARequired
// when MFA is on and the user has a second factor (or every user must have one): the
// reference lets a link skip MFA, restauth does not, and the link is not used up; and
// ErrMagicLinkDisabled without Config.MagicLink.Enabled.
func (s *Service) MagicLogin(ctx context.Context, token string) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "MagicLogin")
	defer opSpan.end(&opErr)
	if !s.cfg.MagicLink.Enabled {
		return nil, ErrMagicLinkDisabled
	}
	id, issued, ok := magictoken.Parse(token)
	if !ok {
		return nil, ErrMagicLinkInvalid
	}
	now := s.now()
	if age := now.Unix() - issued; age < 0 || age > int64(s.cfg.MagicLink.Lifetime/time.Second) {
		return nil, ErrMagicLinkInvalid
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrMagicLinkInvalid
	}
	if err != nil {
		return nil, err
	}
	emails, err := s.emailList(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !u.IsActive || !magictoken.Valid(s.cfg.Secret, token, magicBound(u, emails)) {
		return nil, ErrMagicLinkInvalid
	}
	if _, err := s.secondFactor(ctx, u, ""); err != nil {
		return nil, err // mfaRequired, or a store failure
	}
	// Claim the token in the Limiter first: the last login kills it too, but two requests
	// racing with one link would both read the old one. The Limiter is shared by the
	// instances (redislimit) and atomic; when it fails, the last login still ends the link.
	claim := RateRule{Name: "magic_link_used", Limit: 1, Window: s.cfg.MagicLink.Lifetime + time.Second}
	err = allowRate(ctx, s.cfg.Limiter, claim, ratekey.Hash(s.cfg.Secret, "magic", token))
	var used *ThrottledError
	if errors.As(err, &used) {
		return nil, ErrMagicLinkInvalid
	}
	if err != nil {
		s.log.WarnContext(ctx, "restauth: rate limiter failed; a magic link is single-use by its last login only", "error", err)
	}
	// The new last login must differ from the one the token holds, to the stores'
	// microsecond, or the link would survive a login within the same microsecond.
	login := now.UTC().Truncate(time.Microsecond)
	if !u.LastLogin.IsZero() && !login.After(u.LastLogin) {
		login = u.LastLogin.UTC().Truncate(time.Microsecond).Add(time.Microsecond)
	}
	if u, err = s.store.UpdateUser(ctx, u.ID, UserUpdate{LastLogin: &login}); err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodMagicLink, Detail: "method=" + AuditMethodMagicLink})
	return u, nil
}
