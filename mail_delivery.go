package restauth

import (
	"context"
	"fmt"
	"slices"

	"github.com/restauth/restauth/internal/ratekey"
)

// This file hands mails to Config.Mail.Mailer. A request only writes the mail's intent to
// the outbox (mail_outbox.go); the worker (mail_worker.go) renders and sends it after the
// answer, so that no answer's timing tells whether a mail was sent and no mail server,
// however slow, holds up a request. The mails anyone can trigger (confirmations, resets,
// "account already exists") are limited per recipient here, where every one of them
// passes, and silently: a skipped mail is logged, never reported to the caller.

// sendMail queues one mail of kind for u, addressed to data.Email (the Service fills in
// the site and the username): the per-recipient limit, rendering and delivery run in the
// worker. data is sealed in the outbox, so it may carry a secret. logArgs (key, value
// pairs) are logged with the mail's failures. It reports whether the mail was queued —
// with Config.Mail.SendInRequest, whether it was sent. Failures are logged.
func (s *Service) sendMail(ctx context.Context, kind MailKind, u *User, data MailData, logArgs ...any) bool {
	data.Username = u.Username
	in := mailIntent{job: jobMail, userID: u.ID, email: data.Email, Kind: kind, data: data}
	for _, a := range logArgs {
		in.logArgs = append(in.logArgs, fmt.Sprint(a))
	}
	return s.queueMail(ctx, in)
}

// sendNow checks the per-recipient limit, renders and sends one mail, in the calling
// goroutine; it is what the worker's jobs end with. nil means sent or skipped on purpose
// (over the limit); a render failure wraps errPermanent; a send failure is returned to be
// retried.
func (s *Service) sendNow(ctx context.Context, kind MailKind, u *User, data MailData, logArgs ...any) error {
	args := append([]any{"kind", string(kind), "user_id", u.ID}, logArgs...)
	if !slices.Contains(securityNotices, kind) && mailAttempt(ctx) <= 1 {
		// Security notices are exempt: one per event, and nobody must be able to use up a
		// victim's allowance to silence them. A retry was counted at its first attempt.
		if err := s.throttle(ctx, s.cfg.RateLimits.MailPerRecipient, ratekey.Hash(s.cfg.Secret, "mail", data.Email)); err != nil {
			s.log.InfoContext(ctx, "restauth: mail skipped: too many mails to the address lately", args...)
			return nil
		}
	}
	data.SiteURL, data.SiteName, data.Username = s.cfg.SiteURL, s.cfg.SiteName, u.Username
	if kind == MailAccountExists {
		data.Link = s.cfg.SiteURL
	}
	s.hooks.render(ctx)
	msg, err := renderMail(s.mail[kind], s.cfg.Mail.SubjectPrefix, data.Email, data)
	if err != nil {
		s.log.ErrorContext(ctx, "restauth: could not render mail", append(args, "error", err)...)
		return fmt.Errorf("%w: render: %v", errPermanent, err)
	}
	err = s.cfg.Mail.Mailer.Send(ctx, msg)
	s.tel.recordMail(ctx, kind, err)
	if err != nil {
		// Never the message: it holds secrets.
		return fmt.Errorf("restauth: send %s mail: %w", kind, err)
	}
	return nil
}

// backgroundKey marks the context of the worker's jobs, so that tests can tell the work
// a request does before answering from the work done after.
type backgroundKey struct{}

// attemptKey carries the attempt number of the outbox mail a job sends (1 for the first).
type attemptKey struct{}

// mailAttempt is the attempt number in ctx; 0 outside the worker (SendInRequest).
func mailAttempt(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// serviceHooks are test seams counting work that must not depend on what a request asks
// for; nil fields do nothing.
type serviceHooks struct {
	onRender func(ctx context.Context)
	onMint   func(ctx context.Context)
}

func (h serviceHooks) render(ctx context.Context) {
	if h.onRender != nil {
		h.onRender(ctx)
	}
}

func (h serviceHooks) mint(ctx context.Context) {
	if h.onMint != nil {
		h.onMint(ctx)
	}
}
