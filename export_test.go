package restauth

import "context"

// HashesComputed exposes, to the external tests only, how many password hashes the
// Service has computed, so they can prove equal work without timing anything.
func HashesComputed(s *Service) int64 { return s.hasher.HashCount() }

// LoginDigest is the keyed hash of a login name that AuditLoginFailed carries.
func LoginDigest(s *Service, login string) string { return s.loginDigest(login) }

// HoldHashSlot takes one of the Service's hashing slots, as a long-running hash would,
// until release is called: tests fill the slots with it and need no slow hash.
func HoldHashSlot(s *Service) (release func(), err error) {
	return s.hasher.Acquire(context.Background())
}

// HashEveryBasicCheck turns the verified-credential cache off, as before it existed, for
// the benchmark that measures what it buys.
func HashEveryBasicCheck(s *Service) { s.verified.off = true }

// SetWorkHooks makes the Service call onMint for every reset token, magic-link token or confirmation key it
// mints and onRender for every mail it renders, with the context of the work.
func SetWorkHooks(s *Service, onMint, onRender func(ctx context.Context)) {
	s.hooks = serviceHooks{onMint: onMint, onRender: onRender}
}

// InBackground reports whether ctx is a background job's (work done after answering).
func InBackground(ctx context.Context) bool { return ctx.Value(backgroundKey{}) != nil }

// ManualMailDelivery stops s's outbox worker for good: from now on mail in the outbox is
// delivered only by DeliverDueMail, so that a test with a fake clock decides when.
func ManualMailDelivery(s *Service) {
	s.outbox.mu.Lock()
	s.outbox.manual = true
	s.outbox.mu.Unlock()
	_ = s.Close(context.Background())
}

// DeliverDueMail claims the mail due on s's clock, runs every job and waits for them.
func DeliverDueMail(s *Service) {
	r := &workerRun{slots: make(chan struct{}, s.cfg.Mail.Outbox.Workers)}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	defer r.cancel()
	s.deliverDue(r)
	r.jobs.Wait()
}
