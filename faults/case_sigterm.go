package main

import (
	"context"
	"path/filepath"
	"time"
)

// Case (g): SIGTERM under registration load. The server stops accepting, answers every
// request it had accepted, and exits 0 (F3, F4); every acknowledged registration is in
// the store afterwards.

func runSigterm(ctx context.Context, e *env, r *result) error {
	db := filepath.Join(e.dir, "sigterm.db")
	// A slow mail server (each SMTP answer takes 100 ms), so that confirmations are still
	// being sent when SIGTERM comes.
	sink, err := startSlowSink(100 * time.Millisecond)
	if err != nil {
		return err
	}
	defer sink.close()
	s, err := e.startServer(ctx, "sigterm", "-store", "sqlite", "-db", db, "-limiter", "memory",
		"-smtp", sink.ln.Addr().String(), "-smtp-tls", "none")
	if err != nil {
		return err
	}
	defer s.kill()
	t := &tally{}
	g := newRegistrar(newClient(s.base, nil, 60*time.Second), "term", t)
	wait := g.run(ctx, e.scale.workers)
	if err := g.waitAcked(ctx, e.scale.sigtermAcks, 90*time.Second); err != nil {
		g.stop.Store(true)
		wait()
		return err
	}
	r.RSS = fmtMB(s.rssKiB())
	g.stop.Store(true) // requests in flight now are the ones the shutdown must answer
	// A connection dialled this very moment may still sit in the kernel's accept queue,
	// which the shutdown's closing listener resets: no request the server had accepted.
	// A moment's wait lets the server accept them; the registrations take far longer.
	time.Sleep(50 * time.Millisecond)
	inFlight := g.busy.Load()
	signalled := time.Now()
	code, took := s.terminate(60 * time.Second)
	wait()
	r.addTally(t)
	cut := 0
	for _, f := range g.failed {
		if f.err != nil && f.start.Before(signalled) {
			cut++
			r.note("cut: %v", f.err)
		} else if f.err == nil {
			r.violate("a registration answered %s", f)
		}
	}
	lost, dups, err := checkSQLite(ctx, db, g.acked)
	if err != nil {
		return err
	}
	r.Lost, r.Duplicates = lost, dups
	r.note("exit %d after %s; %d requests in flight at SIGTERM, %d of them cut", code, took.Round(time.Millisecond), inFlight, cut)
	if code != 0 {
		r.violate("exit %d, not 0", code)
	}
	if cut > 0 {
		r.violate("%d requests in flight at SIGTERM got no answer", cut)
	}
	// Each acknowledged registration queued a confirmation mail to its own address, sent
	// in the background after the answer: the shutdown must deliver them all (F3).
	mails := int(sink.delivered.Load())
	r.note("%d confirmation mails delivered for %d acknowledged registrations", mails, len(g.acked))
	if mails < len(g.acked) {
		r.violate("%d of %d confirmation mails lost in the shutdown", len(g.acked)-mails, len(g.acked))
	}
	if lost+dups > 0 {
		r.violate("%d acknowledged registrations lost, %d duplicated", lost, dups)
	}
	return nil
}
