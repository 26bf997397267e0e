package restauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// This file is the outbox's worker: it claims due mails (OutboxStore.ClaimMail, with a
// lease), runs their jobs with Config.Mail.Outbox.Workers at a time, deletes what was
// sent, reschedules a failure with exponential backoff, and gives a mail up after
// MaxAttempts with a log line and an AuditMailGivenUp event. Delivery is at least once:
// a process that dies between sending and deleting leaves the mail to be sent again when
// its lease ends; nothing is ever dropped without a trace.
//
// The worker starts with the Service (so mail left by an earlier process goes out) and
// again whenever mail is queued after Close; it looks for due mail when woken by a queued
// mail and every PollInterval (retries, and mail queued by other instances).

// AuditMailGivenUp: a mail was not delivered and will not be tried again — it failed
// Config.Mail.Outbox.MaxAttempts times, could not be rendered, or could not even be
// written to the outbox. UserID is its user (0 when not known, as for a reset request);
// Detail names the job, the attempts and the reason, never the address or the content.
const AuditMailGivenUp AuditKind = "mail_given_up"

// leaseMargin is added to SendTimeout for a claim's lease: the job's lookups and the
// store's writes after the send also take time, and a lease that ended under a running
// job would let a second worker send the mail again.
const leaseMargin = time.Minute

// closeReleaseWait bounds how long Close, once its context has ended, waits for the
// jobs it cancelled to put their mail back; a Mailer that ignores cancellation is left
// behind, and its mail goes out again when the lease ends.
const closeReleaseWait = 5 * time.Second

// mailWorker is the Service's outbox worker. Its fields are guarded by mu; one run (from
// start to Close) has its own channels.
type mailWorker struct {
	mu     sync.Mutex
	run    *workerRun
	manual bool // tests: no background run; deliverDue is called directly
	wakeCh chan struct{}
}

// workerRun is one run of the worker, from start to stop.
type workerRun struct {
	stop   chan struct{} // closed by Close: drain, then end
	done   chan struct{} // closed when the run has ended
	ctx    context.Context
	cancel context.CancelFunc // ends the jobs (Close's context ran out)
	slots  chan struct{}
	jobs   sync.WaitGroup
}

func newMailWorker() *mailWorker { return &mailWorker{wakeCh: make(chan struct{}, 1)} }

// wake tells the worker there is mail, starting it if it is not running.
func (w *mailWorker) wake(s *Service) {
	w.mu.Lock()
	if w.run == nil && !w.manual {
		r := &workerRun{stop: make(chan struct{}), done: make(chan struct{}), slots: make(chan struct{}, s.cfg.Mail.Outbox.Workers)}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		w.run = r
		go s.workerLoop(r)
	}
	w.mu.Unlock()
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

// workerLoop is a run: deliver what is due, then wait for a wake-up, the poll interval or
// the stop; on stop, deliver what is due once more and wait for the jobs.
func (s *Service) workerLoop(r *workerRun) {
	defer close(r.done)
	defer r.cancel()
	poll := time.NewTimer(s.cfg.Mail.Outbox.PollInterval)
	defer poll.Stop()
	for {
		s.deliverDue(r)
		select {
		case <-r.stop:
			s.deliverDue(r)
			r.jobs.Wait()
			return
		case <-s.outbox.wakeCh:
		case <-poll.C:
			poll.Reset(s.cfg.Mail.Outbox.PollInterval)
		}
	}
}

// deliverDue claims due mail until none is left and starts a job for each, at most
// Workers at a time; it returns when the last one has started.
func (s *Service) deliverDue(r *workerRun) {
	oc := s.cfg.Mail.Outbox
	for r.ctx.Err() == nil {
		mails, err := s.claimMail(r.ctx, oc.SendTimeout+leaseMargin, oc.Workers)
		if err != nil {
			if r.ctx.Err() == nil {
				s.log.ErrorContext(r.ctx, "restauth: could not claim mail from the outbox; retrying later", "error", err)
			}
			return
		}
		if len(mails) == 0 {
			return
		}
		for _, m := range mails {
			select {
			case r.slots <- struct{}{}:
			case <-r.ctx.Done():
				s.putBack(&m)
				continue
			}
			r.jobs.Go(func() {
				defer func() { <-r.slots }()
				s.deliver(r.ctx, &m)
			})
		}
	}
}

// claimMail is the store's ClaimMail, with a panic (a store that does not implement the
// outbox, say a test double embedding a nil Store) turned into an error: the worker runs
// in its own goroutine, where a panic would end the process.
func (s *Service) claimMail(ctx context.Context, lease time.Duration, limit int) (mails []OutboxMail, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("restauth: the store's ClaimMail panicked: %v", p)
		}
	}()
	return s.store.ClaimMail(ctx, s.now(), lease, limit)
}

// deliver runs one claimed mail's job and records the outcome in the outbox.
func (s *Service) deliver(ctx context.Context, m *OutboxMail) {
	oc := s.cfg.Mail.Outbox
	in, err := s.intentOf(m)
	if err == nil {
		jobCtx, cancel := context.WithTimeout(context.WithValue(context.WithValue(ctx, backgroundKey{}, true), attemptKey{}, m.Attempts), oc.SendTimeout)
		err = s.runIntent(jobCtx, in)
		cancel()
	}
	args := []any{"kind", m.Kind, "user_id", m.UserID, "outbox_id", m.ID, "attempt", m.Attempts}
	switch {
	case err == nil:
		s.settle(ctx, "restauth: could not remove a delivered mail from the outbox; it may be sent again", m,
			func(ctx context.Context) error { return s.store.DeleteMail(ctx, m.ID, m.Attempts) })
	case ctx.Err() != nil:
		// Close ran out of time: the mail stays for the next start.
		s.log.InfoContext(ctx, "restauth: mail left in the outbox at shutdown", append(args, "error", err)...)
		s.putBack(m)
	case errors.Is(err, errPermanent) || m.Attempts >= oc.MaxAttempts:
		s.mailLost(ctx, m, fmt.Sprintf("attempts=%d", m.Attempts), err)
		s.settle(ctx, "restauth: could not remove a given-up mail from the outbox", m,
			func(ctx context.Context) error { return s.store.DeleteMail(ctx, m.ID, m.Attempts) })
	default:
		delay := oc.retryDelay(m.Attempts)
		s.log.WarnContext(ctx, "restauth: mail not sent; it will be retried", append(args, "retry_in", delay, "error", err)...)
		s.settle(ctx, "restauth: could not reschedule a mail in the outbox; it is retried when its lease ends", m,
			func(ctx context.Context) error { return s.store.RetryMail(ctx, m.ID, m.Attempts, s.now().Add(delay)) })
	}
}

// putBack makes a claimed mail due again at once, for the next run or instance.
func (s *Service) putBack(m *OutboxMail) {
	s.settle(context.Background(), "restauth: could not put a mail back into the outbox; it is sent when its lease ends", m,
		func(ctx context.Context) error { return s.store.RetryMail(ctx, m.ID, m.Attempts, s.now()) })
}

// settle runs an outbox write after a job, under its own deadline (the job's context may
// have ended), logging a failure with msg: the lease still guards the mail.
func (s *Service) settle(ctx context.Context, msg string, m *OutboxMail, write func(context.Context) error) {
	wctx, cancel := s.outboxWriteContext(ctx)
	defer cancel()
	if err := write(wctx); err != nil {
		s.log.ErrorContext(ctx, msg, "kind", m.Kind, "user_id", m.UserID, "outbox_id", m.ID, "error", err)
	}
}

// outboxWriteContext is ctx's values without its cancellation (an outbox write must not
// end with the request or the job that made it), bounded by Config.StoreTimeout.
func (s *Service) outboxWriteContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithoutCancel(ctx)
	if d := s.cfg.StoreTimeout; d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return context.WithCancel(ctx)
}

// mailLost logs and audits a mail that will not be delivered.
func (s *Service) mailLost(ctx context.Context, m *OutboxMail, reason string, err error) {
	s.log.ErrorContext(ctx, "restauth: mail given up: it will not be delivered",
		"kind", m.Kind, "user_id", m.UserID, "outbox_id", m.ID, "reason", reason, "error", err)
	var u *User
	if m.UserID != 0 {
		u = &User{ID: m.UserID}
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditMailGivenUp, Detail: "job=" + m.Kind + " " + reason})
}

// Close ends the token cache's watch of the store (Config.Tokens.Cache) and stops the
// outbox worker: it delivers the mail that is due and waits for the
// jobs, until ctx ends. Then the jobs still running are cancelled and their mail, like all
// mail not yet due (retries), stays in the outbox for the next start of a Service on the
// same store; Close returns ctx's error. Call it when shutting down, after the HTTP
// server has stopped and before closing the store. A Service stays usable: mail queued
// after Close starts the worker again.
func (s *Service) Close(ctx context.Context) error {
	s.stopTokenCache()
	w := s.outbox
	w.mu.Lock()
	r := w.run
	w.run = nil
	w.mu.Unlock()
	if r == nil {
		return nil
	}
	close(r.stop)
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
	}
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(closeReleaseWait):
		s.log.WarnContext(ctx, "restauth: mail jobs still running after Close cancelled them; their mail is sent again when the lease ends")
	}
	return ctx.Err()
}

// retryDelay is the wait after the attempt-th failed attempt: RetryDelay, doubled for
// each attempt before, at most MaxRetryDelay.
func (c OutboxConfig) retryDelay(attempt int) time.Duration {
	d := c.RetryDelay
	for i := 1; i < attempt && d < c.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, c.MaxRetryDelay)
}
