package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// registrar registers fresh users from concurrent workers and remembers which
// registrations were acknowledged, the writes that must survive any fault.
type registrar struct {
	c      *client
	prefix string
	t      *tally
	next   atomic.Int64
	stop   atomic.Bool  // set: workers send no new request
	busy   atomic.Int64 // requests in flight

	mu     sync.Mutex
	acked  []string
	failed []reply // answers 5xx other than 503, and transport errors, with their start
}

func newRegistrar(c *client, prefix string, t *tally) *registrar {
	return &registrar{c: c, prefix: prefix, t: t}
}

// run starts workers; the returned wait blocks until they have all returned, which they
// do when ctx ends or stop is set.
func (g *registrar) run(ctx context.Context, workers int) (wait func()) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil && !g.stop.Load() {
				name := fmt.Sprintf("%s%d", g.prefix, g.next.Add(1))
				g.busy.Add(1)
				r := g.c.post(ctx, "/api/auth/registration/", registration(name))
				g.busy.Add(-1)
				g.t.add(r)
				g.mu.Lock()
				switch {
				case r.err == nil && r.status >= 200 && r.status < 300:
					g.acked = append(g.acked, name)
				case r.err != nil || r.status >= 500 && r.status != 503:
					g.failed = append(g.failed, r)
				}
				g.mu.Unlock()
			}
		})
	}
	return wg.Wait
}

func (g *registrar) ackedCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.acked)
}

// waitAcked waits until n registrations are acknowledged or limit passes.
func (g *registrar) waitAcked(ctx context.Context, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for g.ackedCount() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d registrations acknowledged after %s (%d requests)", g.ackedCount(), n, limit, g.t.requests)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// parallel runs n jobs on at most workers goroutines.
func parallel(n, workers int, job func(i int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range jobs {
				job(i)
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}
