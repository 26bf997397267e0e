package restauth

import (
	"context"
	"time"
)

// This file hands rendered mails to Config.Mail.Mailer: in the background by default, so that
// no answer's timing tells whether a mail was sent, with a bounded number in flight and a
// Close that waits for them.

// sendMail renders one kind of mail for u, addressed to data.Email (the Service fills in
// the site and the username), and hands it to deliver. It
// reports false when rendering fails; delivery failures are logged by deliver.
func (s *Service) sendMail(ctx context.Context, kind MailKind, u *User, data MailData, logArgs ...any) bool {
	args := append([]any{"kind", string(kind), "user_id", u.ID}, logArgs...)
	data.SiteURL, data.SiteName, data.Username = s.cfg.SiteURL, s.cfg.SiteName, u.Username
	msg, err := renderMail(s.mail[kind], s.cfg.Mail.SubjectPrefix, data.Email, data)
	if err != nil {
		s.log.ErrorContext(ctx, "restauth: could not render mail", append(args, "error", err)...)
		return false
	}
	return s.deliver(ctx, msg, args)
}

// maxMailsInFlight bounds concurrent background deliveries; past it a request waits for a
// slot rather than dropping the mail.
const maxMailsInFlight = 64

// mailTimeout bounds one background delivery.
const mailTimeout = 2 * time.Minute

// deliver sends msg. By default it sends in the background, so that the answer's timing
// does not depend on whether a mail was sent (which would tell who has an account) nor on
// the mail server's speed; Config.Mail.SendInRequest sends before answering instead.
// Failures are logged with args, never with the message, which holds secrets.
func (s *Service) deliver(ctx context.Context, msg *Message, args []any) bool {
	if s.cfg.Mail.SendInRequest {
		if err := s.cfg.Mail.Mailer.Send(ctx, msg); err != nil {
			s.log.ErrorContext(ctx, "restauth: could not send mail", append(args, "error", err)...)
			return false
		}
		return true
	}
	select {
	case s.mailSlots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.mailWG.Add(1)
	go func() {
		defer func() { <-s.mailSlots; s.mailWG.Done() }()
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mailTimeout)
		defer cancel()
		if err := s.cfg.Mail.Mailer.Send(sendCtx, msg); err != nil {
			s.log.ErrorContext(sendCtx, "restauth: could not send mail", append(args, "error", err)...)
		}
	}()
	return true
}

// Close waits until mails being sent in the background are delivered or ctx ends. Call it
// when shutting down, after the HTTP server has stopped.
func (s *Service) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.mailWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
