package restauth

import "context"

// notify mails u a security notice of kind, to data.Email, else to their primary address. Users without an address get nothing; a failure is logged by sendMail,
// never returned: the change itself has happened.
func (s *Service) notify(ctx context.Context, kind MailKind, u *User, data MailData) {
	if s.cfg.DisableSecurityNotifications {
		return
	}
	if data.Email == "" {
		data.Email = u.Email
	}
	if data.Email == "" {
		return
	}
	s.sendMail(ctx, kind, u, data)
}
