package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// This file stops the server in the order that loses nothing: stop accepting, let the
// requests in flight finish, deliver the mail they queued (restauth sends it from the
// store's outbox, after the answer; what is not delivered in time stays there for the
// next start), and only then close the stores, which no handler uses any more.

// defaultShutdownGrace bounds a shutdown. It is longer than a login may wait for the
// password hasher (10 s), so that a SIGTERM under load lets queued logins finish.
const defaultShutdownGrace = 30 * time.Second

// handlerWait bounds the wait for handlers still running once the grace has run out and
// their connections are closed, which cancels their contexts.
const handlerWait = 5 * time.Second

// inflight counts the requests being handled, so that the stores close after the last.
type inflight struct {
	next http.Handler

	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil while nobody waits
}

func (f *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.add(1)
	defer f.add(-1)
	f.next.ServeHTTP(w, r)
}

func (f *inflight) add(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n += d
	if f.n == 0 && f.zero != nil {
		close(f.zero)
		f.zero = nil
	}
}

// idle is closed once no request is being handled.
func (f *inflight) idle() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		done := make(chan struct{})
		close(done)
		return done
	}
	if f.zero == nil {
		f.zero = make(chan struct{})
	}
	return f.zero
}

// shutdown stops srv within a.grace: requests in flight finish, then the background mail
// is delivered, then the stores close. It returns nil when all of it was done in time.
// When the grace runs out it closes the remaining connections, still waits (handlerWait)
// for their handlers before closing the stores, and returns an error; if handlers are
// still running then, the stores stay open.
func shutdown(srv *http.Server, handlers *inflight, a *app, logger *slog.Logger) error {
	logger.Info("shutting down: finishing the requests in flight", "grace", a.grace)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	expired := a.after(a.grace)
	go func() {
		select {
		case <-expired:
			cancel()
		case <-ctx.Done():
		}
	}()

	var errs []error
	if err := srv.Shutdown(ctx); err != nil {
		logger.Error("shutdown grace ran out with requests in flight: closing their connections", "grace", a.grace, "error", err)
		_ = srv.Close()
		errs = append(errs, fmt.Errorf("shutdown grace of %s ran out with requests in flight", a.grace))
	}
	select {
	case <-handlers.idle():
	case <-a.after(handlerWait):
		logger.Error("handlers still running after their connections were closed: leaving the stores open", "wait", handlerWait)
		a.abandon()
		return errors.Join(append(errs, errors.New("handlers still running: stores left open"))...)
	}

	logger.Info("delivering the mail queued by the requests")
	if !mailDelivered(ctx, a) {
		logger.Error("shutdown grace ran out before the queued mail was delivered: it stays in the outbox for the next start", "grace", a.grace)
		errs = append(errs, fmt.Errorf("shutdown grace of %s ran out with mail undelivered", a.grace))
	}
	a.close()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	logger.Info("shut down cleanly")
	return nil
}

// mailDelivered waits for the Service to deliver the mail due in its outbox until ctx
// ends. Unlike a bare Service.Close(ctx), it reports delivered mail as delivered even
// when ctx has already ended (the grace ran out on the requests), rather than picking
// either at random. When ctx ends first, Close is told to stop: the mail being sent is
// put back into the outbox, while the stores are still open, for the next start.
func mailDelivered(ctx context.Context, a *app) bool {
	closeCtx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.svc.Close(closeCtx) }()
	select {
	case err := <-done:
		return err == nil
	case <-ctx.Done():
		select {
		case err := <-done:
			return err == nil
		default:
		}
		stop()
		<-done // Close returns once its jobs put their mail back (or after a bounded wait)
		return false
	}
}
