package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// Case (a): kill -9 of the server under registration load, restart, and check every
// acknowledged registration exists exactly once.

func runKillSQLite(ctx context.Context, e *env, r *result) error {
	db := filepath.Join(e.dir, "kill.db")
	args := []string{"-store", "sqlite", "-db", db, "-limiter", "memory"}
	return killRounds(ctx, e, r, "kill9-sqlite", args, func(names []string) (int, int, error) {
		return checkSQLite(ctx, db, names)
	})
}

func runKillPostgres(ctx context.Context, e *env, r *result) error {
	pg, err := e.postgres(ctx)
	if err != nil {
		return err
	}
	args := []string{"-store", "postgres", "-dsn", pg.dsn, "-pg-schema", "kill9", "-limiter", "memory"}
	return killRounds(ctx, e, r, "kill9-postgres", args, func(names []string) (int, int, error) {
		return checkPostgres(ctx, pg.dsn, "kill9", names)
	})
}

// killRounds crashes the server killRounds times, each after killAcks acknowledged
// registrations with the load still running, then starts it once more (it must come
// up on the crashed database) and checks the store.
func killRounds(ctx context.Context, e *env, r *result, label string, args []string, check func([]string) (int, int, error)) error {
	var acked []string
	t := &tally{}
	var peak int64
	for round := range e.scale.killRounds {
		s, err := e.startServer(ctx, label, args...)
		if err != nil {
			return err
		}
		g := newRegistrar(newClient(s.base, nil, 30*time.Second), fmt.Sprintf("k%d_", round), t)
		lctx, cancel := context.WithCancel(ctx)
		wait := g.run(lctx, e.scale.workers)
		err = g.waitAcked(ctx, e.scale.killAcks, 90*time.Second)
		peak = max(peak, s.rssKiB())
		s.kill() // with registrations in flight
		cancel()
		wait()
		acked = append(acked, g.acked...)
		for _, f := range g.failed {
			if f.err == nil {
				r.violate("a registration answered %s", f)
			}
		}
		if err != nil {
			return err
		}
	}
	s, err := e.startServer(ctx, label, args...)
	if err != nil {
		return fmt.Errorf("restart after the last crash: %w", err)
	}
	if code, _ := s.terminate(40 * time.Second); code != 0 {
		r.note("the final stop exited %d", code)
	}
	r.addTally(t)
	r.RSS = fmtMB(peak)
	lost, dups, err := check(acked)
	if err != nil {
		return err
	}
	r.Lost, r.Duplicates = lost, dups
	r.note("%d crashes; %d requests cut by them (no answer), %d acknowledged registrations checked in the store",
		e.scale.killRounds, t.errors, len(acked))
	if lost > 0 || dups > 0 {
		r.violate("%d acknowledged registrations lost, %d duplicated", lost, dups)
	}
	return nil
}
