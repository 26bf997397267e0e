package restauth

import (
	"context"
	"slices"
	"time"

	"github.com/restauth/restauth/internal/ratekey"
)

// This file hands mails to Config.Mail.Mailer: in the background by default, so that no
// answer's timing tells whether a mail was sent, with a bounded number in flight and a
// Close that waits for them. The mails anyone can trigger (confirmations, resets,
// "account already exists") are limited per recipient here, where every one of them
// passes, and silently: a skipped mail is logged, never reported to the caller.

// sendMail queues one mail of kind for u, addressed to data.Email (the Service fills in
// the site and the username): the per-recipient limit, rendering and delivery run in the
// background (see inBackground). It reports whether the mail was queued — with
// Config.Mail.SendInRequest, whether it was sent. Failures are logged.
func (s *Service) sendMail(ctx context.Context, kind MailKind, u *User, data MailData, logArgs ...any) bool {
	return s.inBackground(ctx, func(ctx context.Context) bool { return s.mailNow(ctx, kind, u, data, logArgs...) })
}

// mailNow checks the per-recipient limit, renders and sends one mail, in the calling
// goroutine; it is sendMail's job, and what a background job (a reset, a resend) calls
// directly. It reports whether the mail was sent.
func (s *Service) mailNow(ctx context.Context, kind MailKind, u *User, data MailData, logArgs ...any) bool {
	args := append([]any{"kind", string(kind), "user_id", u.ID}, logArgs...)
	if !slices.Contains(securityNotices, kind) {
		// Security notices are exempt: one per event, and nobody must be able to use up a
		// victim's allowance to silence them.
		if err := s.throttle(ctx, s.cfg.RateLimits.MailPerRecipient, ratekey.Hash(s.cfg.Secret, "mail", data.Email)); err != nil {
			s.log.InfoContext(ctx, "restauth: mail skipped: too many mails to the address lately", args...)
			return false
		}
	}
	data.SiteURL, data.SiteName, data.Username = s.cfg.SiteURL, s.cfg.SiteName, u.Username
	s.hooks.render(ctx)
	msg, err := renderMail(s.mail[kind], s.cfg.Mail.SubjectPrefix, data.Email, data)
	if err != nil {
		s.log.ErrorContext(ctx, "restauth: could not render mail", append(args, "error", err)...)
		return false
	}
	if err := s.cfg.Mail.Mailer.Send(ctx, msg); err != nil {
		// Never the message: it holds secrets.
		s.log.ErrorContext(ctx, "restauth: could not send mail", append(args, "error", err)...)
		return false
	}
	return true
}

// maxMailsInFlight bounds concurrent background jobs; past it a request waits for a
// slot rather than dropping the mail.
const maxMailsInFlight = 64

// mailTimeout bounds one background job.
const mailTimeout = 2 * time.Minute

// backgroundKey marks the context of a background job, so that tests can tell the work
// a request does before answering from the work done after.
type backgroundKey struct{}

// inBackground runs job, a mail's work (and for resets and resends, everything after the
// rate limits: the lookup, the token, the rendering), in the background by default, so
// that the answer's timing depends neither on whether there was anything to mail (which
// would tell who has an account) nor on the mail server's speed. Config.Mail.SendInRequest
// runs it before answering instead, and reports its result; otherwise it reports whether
// the job was queued.
func (s *Service) inBackground(ctx context.Context, job func(context.Context) bool) bool {
	if s.cfg.Mail.SendInRequest {
		return job(ctx)
	}
	select {
	case s.mailSlots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.mailWG.Add(1)
	go func() {
		defer func() { <-s.mailSlots; s.mailWG.Done() }()
		jobCtx, cancel := context.WithTimeout(context.WithValue(context.WithoutCancel(ctx), backgroundKey{}, true), mailTimeout)
		defer cancel()
		job(jobCtx)
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
