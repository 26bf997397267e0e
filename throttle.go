package restauth

import (
	"context"
	"errors"
	"strconv"

	"github.com/restauth/restauth/internal/ratekey"
	"github.com/restauth/restauth/internal/validate"
)

// This file holds the rate-limit policy the operations apply. Every operation counts its
// own events, so a host calling the Service directly is held to the same limits as the
// HTTP routes; the per-address rules use the Client in the context (see WithClient).

// throttle counts one event for key under rule. It returns a *ThrottledError (matching
// ErrThrottled) when the rule refuses. When the limiter itself fails (Redis down), the
// request is allowed and the failure logged: an outage of the limiter must not lock every
// user out. A refusal emits an AuditThrottled event naming the rule.
func (s *Service) throttle(ctx context.Context, rule RateRule, key string) error {
	err := allowRate(ctx, s.cfg.Limiter, rule, key)
	var throttled *ThrottledError
	if err != nil && !errors.As(err, &throttled) {
		s.log.WarnContext(ctx, "restauth: rate limiter failed; allowing the request", "rule", rule.Name, "error", err)
		return nil
	}
	if throttled != nil {
		throttled.Rule = rule.Name
		s.audit(ctx, nil, AuditEvent{Kind: AuditThrottled, Rule: rule.Name, Detail: "rule=" + rule.Name})
	}
	return err
}

// throttleAddr counts one event for the client's address under rule; nothing when the
// context names no client (a direct call without WithClient).
func (s *Service) throttleAddr(ctx context.Context, rule RateRule) error {
	key, ok := addrKey(ctx)
	if !ok {
		return nil
	}
	return s.throttle(ctx, rule, key)
}

// addrKey is the limiter key for the client's address, and whether one is known.
func addrKey(ctx context.Context) (string, bool) {
	addr := clientAddr(ctx)
	if addr == "" {
		return "", false
	}
	return "ip:" + addr, true
}

// loginKey is the limiter key for a login name; it is hashed so the limiter's store holds
// no user names. The name is NFKC-normalised first, as logins look it up, so look-alike
// spellings of one name share its count.
func (s *Service) loginKey(username string) string {
	return ratekey.Hash(s.cfg.Secret, "login", validate.NormalizeUsername(username))
}

// emailKey is the limiter key for an e-mail address, hashed for the same reason.
func (s *Service) emailKey(email string) string {
	return ratekey.Hash(s.cfg.Secret, "email", email)
}

// loginAddrKey is the key of LoginFailedPerAccount: the login name and, when the context
// names a Client, its address (allauth's keying), so that guesses from elsewhere do not
// refuse the owner's own address; the name alone when no address is known.
func (s *Service) loginAddrKey(ctx context.Context, username string) string {
	name := validate.NormalizeUsername(username)
	if addr := clientAddr(ctx); addr != "" {
		return ratekey.Hash(s.cfg.Secret, "login_ip", addr+"\x00"+name)
	}
	return ratekey.Hash(s.cfg.Secret, "login", name)
}

// throttleLogin counts a login attempt against the client address, then the account from
// that address, then the account from everywhere (the daily cap), before credentials are
// checked: the address first, so a blocked address cannot keep adding to accounts' counts.
// Counting first means a burst of parallel guesses cannot overshoot a limit, a throttled
// attempt costs no hashing, and a throttled account answers a right password like a wrong
// one; passwordAccepted gives back what a right password should not cost.
func (s *Service) throttleLogin(ctx context.Context, username string) error {
	if err := s.throttleAddr(ctx, s.cfg.RateLimits.LoginFailedPerIP); err != nil {
		return err
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.LoginFailedPerAccount, s.loginAddrKey(ctx, username)); err != nil {
		return err
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.LoginFailedPerAccountDaily, s.loginKey(username)); err != nil {
		s.refundRate(ctx, s.cfg.RateLimits.LoginFailedPerAccount, s.loginAddrKey(ctx, username))
		return err
	}
	return nil
}

// refunds reports whether the limiter can give counted attempts back (LimitRefunder).
func (s *Service) refunds() bool {
	_, ok := s.cfg.Limiter.(LimitRefunder)
	return ok
}

// passwordAccepted gives back the address's count for an attempt whose password was
// verified, so that users behind one NAT or proxy do not use up its failed-login limit,
// and the account's daily count, so that only failures add up to the daily cap; for
// Basic, which logs in on every request, the account's per-address count too. (A login
// clears the account's counts with loginSucceeded instead.) Only a verified password
// earns it: any other outcome keeps its count, so the limits tell nothing about who has
// an account.
func (s *Service) passwordAccepted(ctx context.Context, username string, basic bool) {
	if key, ok := addrKey(ctx); ok {
		s.refundRate(ctx, s.cfg.RateLimits.LoginFailedPerIP, key)
	}
	s.refundRate(ctx, s.cfg.RateLimits.LoginFailedPerAccountDaily, s.loginKey(username))
	if basic {
		s.refundRate(ctx, s.cfg.RateLimits.LoginFailedPerAccount, s.loginAddrKey(ctx, username))
	}
}

// refundRate gives back key's newest event under rule, when the limiter can
// (LimitRefunder); a failure leaves it to expire.
func (s *Service) refundRate(ctx context.Context, rule RateRule, key string) {
	rf, ok := s.cfg.Limiter.(LimitRefunder)
	if !ok || !rule.Enabled() {
		return
	}
	if err := rf.Refund(ctx, key, rule); err != nil {
		s.log.WarnContext(ctx, "restauth: rate limiter refund failed", "rule", rule.Name, "error", err)
	}
}

// loginSucceeded forgets the account's failed attempts from the client's address. The
// daily cap keeps the failures from elsewhere: a success of the owner must not give a
// distributed guesser a fresh allowance.
func (s *Service) loginSucceeded(ctx context.Context, username string) {
	s.resetRate(ctx, s.cfg.RateLimits.LoginFailedPerAccount, s.loginAddrKey(ctx, username))
}

// clearUserCaps forgets the per-user caps that count from every address (the daily login
// cap under each name the user can log in by, and the second-factor cap): after a
// password reset, which only the owner of a verified address can do, or an
// administrator's ResetMFA. The per-address counts expire on their own within minutes.
func (s *Service) clearUserCaps(ctx context.Context, u *User, emails []string) {
	s.resetRate(ctx, s.cfg.RateLimits.MFAFailedPerUser, userKey(u.ID))
	for _, name := range append([]string{u.Username}, emails...) {
		s.resetRate(ctx, s.cfg.RateLimits.LoginFailedPerAccountDaily, s.loginKey(name))
	}
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
