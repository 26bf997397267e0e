// Package periodic runs a function in the background at a fixed interval until stopped.
// The SQL stores use it to delete expired sessions.
package periodic

import (
	"context"
	"sync"
	"time"
)

// Task calls a function every interval in a goroutine of its own, from Start until Stop.
// The zero value is ready to use; a Task is safe for concurrent use and must not be
// copied after first use.
type Task struct {
	mu      sync.Mutex
	stopped bool
	stop    chan struct{} // non-nil once the goroutine runs; closed by Stop
	done    chan struct{} // closed by the goroutine when it ends
}

// Start starts calling fn every interval, unless the task runs already, Stop was called,
// or interval is not positive. The context fn gets is canceled by Stop, so that a call in
// progress ends early; fn reports no errors, so it must deal with its own (the usual
// choice for a cleanup being to try again at the next tick).
func (t *Task) Start(interval time.Duration, fn func(ctx context.Context)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.stop != nil || interval <= 0 {
		return
	}
	t.stop, t.done = make(chan struct{}), make(chan struct{})
	go run(interval, fn, t.stop, t.done)
}

// Stop ends the task: it cancels a call of fn in progress and waits for the goroutine to
// end, and Start does nothing afterwards. It reports whether this was the first call of
// Stop; later calls return at once.
func (t *Task) Stop() (first bool) {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return false
	}
	t.stopped = true
	stop, done := t.stop, t.done
	t.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	return true
}

// run calls fn every interval until stop is closed, then closes done.
func run(interval time.Duration, fn func(context.Context), stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel() // interrupt a call in progress
		case <-ctx.Done():
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			fn(ctx)
		}
	}
}
