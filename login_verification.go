package restauth

import "context"

// mailVerificationOnRefusedLogin mails a new confirmation link when a login with the right
// password is refused because the user's address is unverified (mandatory verification),
// as allauth's login does: the user learns where to look instead of being stuck. The link
// is for the primary address, else the first unverified one. Links to one address are
// limited by RateLimits.ResendPerEmail like every other (the same key): over the limit
// nothing is mailed and the refusal is the same. The mail is queued in the background and
// failures are logged, never returned.
func (s *Service) mailVerificationOnRefusedLogin(ctx context.Context, u *User) {
	addrs, err := s.store.EmailAddresses(ctx, u.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "restauth: could not read the addresses for a confirmation after a refused login", "user_id", u.ID, "error", err)
		return
	}
	var addr *EmailAddress
	for i := range addrs {
		if a := &addrs[i]; !a.Verified && (addr == nil || a.Primary) {
			addr = a
		}
	}
	if addr == nil {
		return
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(addr.Email)); err != nil {
		s.log.InfoContext(ctx, "restauth: no confirmation mailed after a refused login: too many links to the address lately", "user_id", u.ID, "email_address_id", addr.ID)
		return
	}
	s.confirmUnlessTaken(ctx, u, addr)
}
