package restauth

import "context"

// notify mails u a security notice of kind. Notices go only to an address the user holds
// verified: a notice names the account and the change (the new address, for one), and an
// unverified address may be someone else's, say a typo at registration.
//
// With data.Email empty the recipient is the user's primary address if it is verified,
// else their verified address with the lowest id (the oldest one confirmed to be theirs
// still held, a stable choice), else nobody. A caller that sets data.Email (the previous
// primary, a removed address) must have checked that the user held it verified: notify
// cannot, as the address may be gone by now.
//
// Users without a verified address get nothing; the change itself has happened, so a
// failure (reading the addresses, sending) is logged, never returned.
func (s *Service) notify(ctx context.Context, kind MailKind, u *User, data MailData) {
	if s.cfg.Mail.DisableSecurityNotifications {
		return
	}
	if data.Email == "" {
		to, err := s.noticeRecipient(ctx, u.ID)
		if err != nil {
			s.log.ErrorContext(ctx, "restauth: could not read the addresses for a security notice", "kind", string(kind), "user_id", u.ID, "error", err)
			return
		}
		data.Email = to
	}
	if data.Email == "" {
		s.log.InfoContext(ctx, "restauth: no security notice mailed: the user has no verified address", "kind", string(kind), "user_id", u.ID)
		return
	}
	s.sendMail(ctx, kind, u, data)
}

// noticeRecipient returns the address a security notice for the user goes to: the primary
// address if it is verified, else the verified address with the lowest id, else "".
func (s *Service) noticeRecipient(ctx context.Context, userID int64) (string, error) {
	addrs, err := s.store.EmailAddresses(ctx, userID)
	if err != nil {
		return "", err
	}
	var first *EmailAddress
	for i := range addrs {
		a := &addrs[i]
		if !a.Verified {
			continue
		}
		if a.Primary {
			return a.Email, nil
		}
		if first == nil || a.ID < first.ID {
			first = a
		}
	}
	if first == nil {
		return "", nil
	}
	return first.Email, nil
}
