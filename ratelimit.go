package restauth

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/memlimit"
	"github.com/restauth/restauth/internal/ratekey"
)

// Limiter counts events per key in a window. Implementations must be safe for concurrent
// use.
//
// Keys are opaque strings the caller builds, such as "ip:192.0.2.1", "ip:2001:db8::/64"
// or "user:42". Callers should not put e-mail addresses or usernames into keys in the
// clear: hash them (the Service does, with its secret: internal/ratekey) so that a dump of the
// limiter's store, such as a Redis snapshot, holds no addresses.
//
// NewMemoryLimiter serves a single instance; the redislimit module
// (github.com/restauth/restauth/redislimit) shares counts between instances.
type Limiter interface {
	// Allow records one event for key under rule and reports whether it is within the
	// rule's limit; when not, retryAfter is how long until the next event would be
	// allowed. A refused event is not recorded, so retrying early does not extend the wait.
	// A disabled rule (see RateRule.Enabled) is always allowed and records nothing.
	Allow(ctx context.Context, key string, rule RateRule) (ok bool, retryAfter time.Duration, err error)
	// Reset forgets key's events under rule (e.g. a successful login clears failed
	// attempts).
	Reset(ctx context.Context, key string, rule RateRule) error
}

// LimitRefunder is an optional Limiter capability, found by type assertion: Refund forgets
// the most recent event recorded for key under rule (nothing when there is none). Login
// attempts are counted before the password is checked — so that parallel guesses cannot
// overshoot a limit — and the attempts whose password was right are given back, so that
// users sharing an address, or a client sending Basic on every request, do not use the
// limits up. Both limiters restauth ships implement it; with a limiter that does not,
// successful logins count too and Basic counts failures only.
type LimitRefunder interface {
	Refund(ctx context.Context, key string, rule RateRule) error
}

// RateRule allows at most Limit events per key in any sliding Window. Name namespaces
// the keys: two rules with the same Name share their counts, so every rule needs a
// distinct Name made of letters, digits, '_', '-' and '.' (no ':', which separates the
// parts of a Redis key).
type RateRule struct {
	Name   string
	Limit  int
	Window time.Duration
}

// Enabled reports whether the rule limits anything. A rule with Limit <= 0 or
// Window <= 0 is disabled: Allow always allows it and records nothing.
func (r RateRule) Enabled() bool { return r.Limit > 0 && r.Window > 0 }

// String is "name: limit per window", or "name: disabled".
func (r RateRule) String() string {
	if !r.Enabled() {
		return r.Name + ": disabled"
	}
	return r.Name + ": " + strconv.Itoa(r.Limit) + " per " + r.Window.String()
}

// RateLimits is the table of rate limits the Service applies. DefaultRateLimits returns
// django-allauth's defaults (ACCOUNT_RATE_LIMITS) where allauth has one. A zero RateRule
// field stands for its default; to disable a rule set its Limit to -1.
type RateLimits struct {
	// LoginFailedPerAccount limits login attempts per login name and client address
	// (allauth "login_failed" per key: 5 per 5 min), keyed by the name alone when the
	// context names no Client. Keying by the address too means guesses from elsewhere do
	// not lock the owner's own address out. A successful login resets it.
	LoginFailedPerAccount RateRule
	// LoginFailedPerAccountDaily caps login attempts per login name from all addresses
	// together: 100 per day, restauth's own. It bounds guessing spread over many
	// addresses, which the per-address rules cannot see; over it even the right password
	// is refused unchecked, so the refusal reveals nothing. Attempts with the right
	// password are given back (so only failures add up); a successful login does not
	// reset it, which would give the guesser a fresh allowance, but a password reset
	// does, which the owner can always do. 100 is far beyond one person's typos and holds
	// a botnet to 100 guesses a day per account.
	LoginFailedPerAccountDaily RateRule
	// LoginFailedPerIP limits login attempts per client IP (allauth "login_failed" per ip:
	// 10 per minute).
	LoginFailedPerIP RateRule
	// ResetPerIP limits password-reset requests per client IP (allauth "reset_password"
	// per ip: 20 per minute).
	ResetPerIP RateRule
	// ResetPerEmail limits password-reset requests per submitted address: 5 per 5 min,
	// stricter than allauth's own default of 5 per minute, because each one mails the
	// address's owner and a minute's window lets a script send 7,200 a day.
	ResetPerEmail RateRule
	// SignupPerIP limits registrations per client IP (allauth "signup": 20 per minute).
	SignupPerIP RateRule
	// PasswordChangePerUser limits password changes per authenticated user: 10 per 5 min.
	// allauth's "change_password" allows 5 per minute (300 an hour); 10 per 5 min (120 an
	// hour) is stricter against guessing old_password with a stolen session while leaving
	// a user who fights the password validators several tries.
	PasswordChangePerUser RateRule
	// ResendPerEmail limits e-mail verification resends per address: 1 per 3 min, allauth's
	// "confirm_email" default for links. The resend route is anonymous, so this is what
	// stops it being used to flood someone's inbox; a user rarely needs a second link
	// within 3 minutes, and the answer does not depend on whether the address exists.
	ResendPerEmail RateRule
	// MFAFailedPerUser limits second-factor codes tried per user: 20 per day, counted
	// before the code is checked and cleared by a correct one. It is what bounds guessing
	// by someone who has the password: the login limits alone allow 1,440 guesses a day.
	// Over it a code is refused unchecked (right or wrong), so it reveals nothing; a
	// password reset or ResetMFA clears it, so whoever guesses with the password can be
	// shut out by the owner.
	MFAFailedPerUser RateRule
	// BodyPerIP limits, per client IP, the unsafe requests (POST, PUT, PATCH, DELETE) of
	// anonymous callers on the public routes (login, registration, password reset, e-mail
	// verification, logout): 60 per minute. It is counted by the router before the body
	// is read, so a flood of bodies from one address costs a limiter call each, not their
	// bytes. It is coarse on purpose: above the per-operation address rules for any one
	// client (10 failed logins, 20 sign-ups and 20 resets a minute), it only catches what
	// they cannot see before reading the body. Hosts with many users behind one address
	// should set TrustedProxies or raise it.
	BodyPerIP RateRule
	// MFAFailedPerUserIP limits second-factor codes tried per user and client address: 5
	// per 5 min, like the login rule. It is the ordinary refusal, so that codes guessed
	// from other addresses do not refuse the owner's own address before the daily cap.
	MFAFailedPerUserIP RateRule
	// MailPerRecipient limits the mails that anyone can make the Service send to one
	// address (confirmations, password resets, "account already exists" notices): 5 per
	// hour, counted by a hash of the recipient address. Over it the mail is skipped and
	// logged, never reported to the caller. Security notices are exempt: they are sent
	// once per event, and nobody must be able to use up a victim's allowance to silence
	// them. 5 an hour leaves a real user a signup link, a resend and a few resets, and
	// holds a flood at 120 mails a day per address.
	MailPerRecipient RateRule
	// LoginCodePerIP limits requests for a login code per client IP (allauth
	// "request_login_code" per ip: 20 per minute).
	LoginCodePerIP RateRule
	// LoginCodePerEmail limits requests for a login code per submitted address (allauth
	// "request_login_code" per key: 3 per minute); each one mails the address's owner.
	LoginCodePerEmail RateRule
	// ReauthenticatePerUser limits re-authentications per user (allauth "reauthenticate":
	// 10 per minute), on top of the login rules a re-authentication also counts towards.
	ReauthenticatePerUser RateRule
	// WebAuthnFailedPerIP limits WebAuthn assertions (second factor, passkey login,
	// reauthentication) per client address: 10 per minute, like LoginFailedPerIP. Each is
	// counted before it is checked and given back when it succeeds, so only failures add
	// up. A second-factor assertion also counts towards MFAFailedPerUserIP and
	// MFAFailedPerUser, like a code.
	WebAuthnFailedPerIP RateRule
	// ProviderTokenFailedPerIP limits the provider tokens a native app hands in
	// (LoginWithProviderToken, allauth headless's auth/provider/token) per client address:
	// 10 per minute, like LoginFailedPerIP, as a token stands in for a password. Each is
	// counted before it is checked, since checking one costs a signature check or a call to
	// the provider's user-info, and given back when it logs in (or connects, or pends a
	// step), so only refused tokens add up. allauth has no rule of its own for it.
	ProviderTokenFailedPerIP RateRule
	// PrimaryEmailPerUser limits, per user, the attempts to make an unverified address
	// primary (SetPrimaryEmail): 10 per hour, restauth's own. Their refusal tells whether
	// another account holds the address verified, which registration conceals under
	// enumeration prevention; unlimited, any account could test a list of addresses.
	// Counted before the check, so a throttled attempt reveals nothing either.
	PrimaryEmailPerUser RateRule
}

// Rule names of DefaultRateLimits; they prefix the limiter keys.
const (
	RuleLoginFailedAccount = "login_failed_account"
	RuleLoginFailedIP      = "login_failed_ip"
	RuleResetIP            = "reset_password_ip"
	RuleResetEmail         = "reset_password_email"
	RuleSignupIP           = "signup_ip"
	RulePasswordChangeUser = "change_password_user"
	RuleResendEmail        = "confirm_email_email"
	RuleMFAFailedUser      = "mfa_failed_user"
	RuleBodyIP             = "anonymous_body_ip"
	// RuleLoginFailedAccountDay, RuleMFAFailedUserIP and RuleMailRecipient name the
	// rules added for lockout resistance and per-recipient mail limits.
	RuleLoginFailedAccountDay = "login_failed_account_day"
	RuleMFAFailedUserIP       = "mfa_failed_user_ip"
	RuleMailRecipient         = "mail_recipient"
	// RuleLoginCodeIP, RuleLoginCodeEmail and RuleReauthenticateUser name the rules of
	// login by code and re-authentication.
	RuleLoginCodeIP        = "request_login_code_ip"
	RuleLoginCodeEmail     = "request_login_code_email"
	RuleReauthenticateUser = "reauthenticate_user"
	// RuleWebAuthnFailedIP names WebAuthnFailedPerIP.
	RuleWebAuthnFailedIP = "webauthn_failed_ip"
	// RuleProviderTokenFailedIP names ProviderTokenFailedPerIP.
	RuleProviderTokenFailedIP = "provider_token_failed_ip"
	// RulePrimaryEmailUser names PrimaryEmailPerUser.
	RulePrimaryEmailUser = "primary_email_user"
)

// DefaultRateLimits returns allauth's defaults (ACCOUNT_RATE_LIMITS), with the stricter
// per-address reset window, the password-change and resend rules and the second-factor
// cap and the anonymous-body rule documented on RateLimits.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		LoginFailedPerAccount: RateRule{Name: RuleLoginFailedAccount, Limit: 5, Window: 5 * time.Minute},
		LoginFailedPerIP:      RateRule{Name: RuleLoginFailedIP, Limit: 10, Window: time.Minute},
		ResetPerIP:            RateRule{Name: RuleResetIP, Limit: 20, Window: time.Minute},
		ResetPerEmail:         RateRule{Name: RuleResetEmail, Limit: 5, Window: 5 * time.Minute},
		SignupPerIP:           RateRule{Name: RuleSignupIP, Limit: 20, Window: time.Minute},
		PasswordChangePerUser: RateRule{Name: RulePasswordChangeUser, Limit: 10, Window: 5 * time.Minute},
		ResendPerEmail:        RateRule{Name: RuleResendEmail, Limit: 1, Window: 3 * time.Minute},
		MFAFailedPerUser:      RateRule{Name: RuleMFAFailedUser, Limit: 20, Window: 24 * time.Hour},
		BodyPerIP:             RateRule{Name: RuleBodyIP, Limit: 60, Window: time.Minute},

		LoginFailedPerAccountDaily: RateRule{Name: RuleLoginFailedAccountDay, Limit: 100, Window: 24 * time.Hour},
		MFAFailedPerUserIP:         RateRule{Name: RuleMFAFailedUserIP, Limit: 5, Window: 5 * time.Minute},
		MailPerRecipient:           RateRule{Name: RuleMailRecipient, Limit: 5, Window: time.Hour},
		LoginCodePerIP:             RateRule{Name: RuleLoginCodeIP, Limit: 20, Window: time.Minute},
		LoginCodePerEmail:          RateRule{Name: RuleLoginCodeEmail, Limit: 3, Window: time.Minute},
		ReauthenticatePerUser:      RateRule{Name: RuleReauthenticateUser, Limit: 10, Window: time.Minute},
		WebAuthnFailedPerIP:        RateRule{Name: RuleWebAuthnFailedIP, Limit: 10, Window: time.Minute},
		ProviderTokenFailedPerIP:   RateRule{Name: RuleProviderTokenFailedIP, Limit: 10, Window: time.Minute},
		PrimaryEmailPerUser:        RateRule{Name: RulePrimaryEmailUser, Limit: 10, Window: time.Hour},
	}
}

// rules lists the table's rules with pointers, in field order.
func (rl *RateLimits) rules() []*RateRule {
	return []*RateRule{
		&rl.LoginFailedPerAccount, &rl.LoginFailedPerIP, &rl.ResetPerIP, &rl.ResetPerEmail,
		&rl.SignupPerIP, &rl.PasswordChangePerUser, &rl.ResendPerEmail, &rl.MFAFailedPerUser,
		&rl.BodyPerIP,
		&rl.LoginFailedPerAccountDaily, &rl.MFAFailedPerUserIP, &rl.MailPerRecipient,
		&rl.LoginCodePerIP, &rl.LoginCodePerEmail, &rl.ReauthenticatePerUser,
		&rl.WebAuthnFailedPerIP, &rl.ProviderTokenFailedPerIP, &rl.PrimaryEmailPerUser,
	}
}

// withDefaults replaces each zero rule with its default and gives a nameless rule its
// default name, so a host can override one rule and keep the others.
func (rl RateLimits) withDefaults() RateLimits {
	def := DefaultRateLimits()
	defs := def.rules()
	for i, r := range rl.rules() {
		switch {
		case *r == RateRule{}:
			*r = *defs[i]
		case r.Name == "":
			r.Name = defs[i].Name
		}
	}
	return rl
}

// validate checks that the rules have distinct, well-formed names.
func (rl RateLimits) validate() error {
	seen := make(map[string]bool)
	for _, r := range rl.rules() {
		if r.Name == "" || strings.IndexFunc(r.Name, func(c rune) bool {
			return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.')
		}) >= 0 {
			return fmt.Errorf("%w: rate rule name %q must be non-empty letters, digits, '_', '-' or '.'", ErrConfig, r.Name)
		}
		if seen[r.Name] {
			return fmt.Errorf("%w: rate rule name %q is used twice", ErrConfig, r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

// allowRate records one event for key under rule. It returns nil when allowed, a
// *ThrottledError when refused, and the limiter's error (wrapped) when it failed.
func allowRate(ctx context.Context, l Limiter, rule RateRule, key string) error {
	if l == nil || !rule.Enabled() {
		return nil
	}
	ok, retry, err := l.Allow(ctx, key, rule)
	switch {
	case err != nil:
		return fmt.Errorf("restauth: rate limiter (%s): %w", rule.Name, err)
	case !ok:
		return &ThrottledError{RetryAfterSeconds: ratekey.RetryAfterSeconds(retry)}
	}
	return nil
}

// DefaultMemoryLimiterMaxKeys bounds the (rule, key) pairs a memory limiter tracks. At the
// limit, tracking a new key evicts the least recently used one. An entry costs roughly
// 150 bytes plus its key and 8 bytes per recorded event.
const DefaultMemoryLimiterMaxKeys = memlimit.DefaultMaxKeys

// MemoryLimiterOption configures NewMemoryLimiter.
type MemoryLimiterOption func(*memoryLimiter)

// WithMemoryMaxKeys bounds the (rule, key) pairs the limiter tracks (default
// DefaultMemoryLimiterMaxKeys, at least 32). Beyond it the least recently used entry is
// evicted, forgetting its events: a bound on memory that, under a flood of distinct keys,
// fails open rather than refusing everyone.
func WithMemoryMaxKeys(n int) MemoryLimiterOption {
	return func(l *memoryLimiter) { l.maxKeys = n }
}

// NewMemoryLimiter returns a Limiter that keeps a sliding-window log per key in memory,
// as allauth does in its cache: an event is allowed while fewer than Limit events were
// recorded in the last Window, and retryAfter is when the oldest one that matters leaves
// the window. now is the clock (nil means time.Now). It also implements LimitRefunder.
//
// Memory is bounded: each call drops a few expired least-recently-used entries, each
// shard drops all expired entries once a minute, and at most WithMemoryMaxKeys entries
// are kept, so spraying keys cannot grow it without bound. It counts for one process
// only; instances behind a load balancer need a shared Limiter such as redislimit.
func NewMemoryLimiter(now func() time.Time, opts ...MemoryLimiterOption) Limiter {
	l := &memoryLimiter{maxKeys: DefaultMemoryLimiterMaxKeys}
	for _, o := range opts {
		o(l)
	}
	l.l = memlimit.New(now, l.maxKeys)
	return l
}

// memoryLimiter adapts internal/memlimit to Limiter and LimitRefunder; it never fails.
type memoryLimiter struct {
	maxKeys int
	l       *memlimit.Limiter
}

// Allow implements Limiter.
func (m *memoryLimiter) Allow(_ context.Context, key string, rule RateRule) (bool, time.Duration, error) {
	ok, retry := m.l.Allow(key, memlimit.Rule(rule))
	return ok, retry, nil
}

// Refund implements LimitRefunder.
func (m *memoryLimiter) Refund(_ context.Context, key string, rule RateRule) error {
	m.l.Refund(key, rule.Name)
	return nil
}

// Reset implements Limiter.
func (m *memoryLimiter) Reset(_ context.Context, key string, rule RateRule) error {
	m.l.Reset(key, rule.Name)
	return nil
}
