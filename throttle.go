package restauth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
)

// throttle counts one event for key under rule. It returns a *ThrottledError when the rule
// refuses. When the limiter itself fails (Redis down), the request is allowed and the
// failure logged: an outage of the limiter must not lock every user out. A refusal emits
// an AuditThrottled event naming the rule.
func (s *Service) throttle(r *http.Request, rule RateRule, key string) error {
	return s.limit(r.Context(), r, rule, key, allowRate)
}

// throttleCtx is throttle for callers without a request (r nil): the Service's own
// operations, such as checking a second factor.
func (s *Service) throttleCtx(ctx context.Context, r *http.Request, rule RateRule, key string) error {
	return s.limit(ctx, r, rule, key, allowRate)
}

// limit applies rule to key through check (allowRate counts the event, checkRate only
// looks), with throttle's handling of refusals and limiter failures.
func (s *Service) limit(ctx context.Context, r *http.Request, rule RateRule, key string, check func(context.Context, Limiter, RateRule, string) error) error {
	err := check(ctx, s.cfg.Limiter, rule, key)
	var throttled *ThrottledError
	if err != nil && !errors.As(err, &throttled) {
		s.log.WarnContext(ctx, "restauth: rate limiter failed; allowing the request", "rule", rule.Name, "error", err)
		return nil
	}
	if throttled != nil {
		s.audit(ctx, AuditThrottled, nil, r, "rule="+rule.Name)
	}
	return err
}

// ipKey is the limiter key for the request's client address.
func (s *Service) ipKey(r *http.Request) string {
	return "ip:" + clientIP(r, s.cfg.TrustedProxies)
}

// loginKey is the limiter key for a login name; it is hashed so the limiter's store holds
// no user names.
func (s *Service) loginKey(username string) string {
	return rateKeyHash(s.cfg.Secret, "login", username)
}

// throttleLogin applies the failed-login rules before credentials are checked: per client
// address first, so a blocked address cannot keep adding to accounts' counts, then per
// account. The account's count takes every attempt — parallel guesses cannot overshoot it,
// and a successful login clears it — while the address's takes failures only (loginFailed):
// many users behind one NAT or proxy logging in successfully must not use it up. A
// throttled attempt costs no hashing.
func (s *Service) throttleLogin(r *http.Request, username string) error {
	check := checkRate
	if _, ok := s.cfg.Limiter.(LimitChecker); !ok {
		check = allowRate // cannot look without counting: count every attempt
	}
	if err := s.limit(r.Context(), r, s.cfg.RateLimits.LoginFailedPerIP, s.ipKey(r), check); err != nil {
		return err
	}
	return s.throttle(r, s.cfg.RateLimits.LoginFailedPerAccount, s.loginKey(username))
}

// loginFailed counts a failed login (a wrong password or second factor) against the client
// address, after throttleLogin let it through.
func (s *Service) loginFailed(r *http.Request) {
	if _, ok := s.cfg.Limiter.(LimitChecker); ok {
		_ = s.throttle(r, s.cfg.RateLimits.LoginFailedPerIP, s.ipKey(r)) // the answer is already a refusal
	}
}

// throttledLogin tells, without counting, whether the client address or the account is
// over its failed-login limit. Basic authentication, which counts failures only, asks it
// before checking the password: otherwise a throttled account would still answer a right
// password differently from a wrong one.
func (s *Service) throttledLogin(r *http.Request, username string) error {
	if err := s.limit(r.Context(), r, s.cfg.RateLimits.LoginFailedPerIP, s.ipKey(r), checkRate); err != nil {
		return err
	}
	return s.limit(r.Context(), r, s.cfg.RateLimits.LoginFailedPerAccount, s.loginKey(username), checkRate)
}

// loginSucceeded forgets the account's failed attempts.
func (s *Service) loginSucceeded(ctx context.Context, username string) {
	s.resetRate(ctx, s.cfg.RateLimits.LoginFailedPerAccount, s.loginKey(username))
}

// resetRate forgets key's events under rule; a limiter failure only leaves them to expire.
func (s *Service) resetRate(ctx context.Context, rule RateRule, key string) {
	if s.cfg.Limiter == nil || !rule.Enabled() {
		return
	}
	if err := s.cfg.Limiter.Reset(ctx, key, rule); err != nil {
		s.log.WarnContext(ctx, "restauth: rate limiter reset failed", "rule", rule.Name, "error", err)
	}
}

func userKey(id int64) string { return "user:" + strconv.FormatInt(id, 10) }
