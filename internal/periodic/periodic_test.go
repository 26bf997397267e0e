package periodic

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallsUntilStopped(t *testing.T) {
	t.Parallel()
	var task Task
	var calls atomic.Int32
	task.Start(time.Millisecond, func(context.Context) { calls.Add(1) })
	task.Start(time.Millisecond, func(context.Context) { t.Error("a second Start started a second goroutine") })
	deadline := time.Now().Add(10 * time.Second)
	for calls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("fn was called %d times in 10s", calls.Load())
		}
		time.Sleep(time.Millisecond)
	}
	if !task.Stop() {
		t.Error("the first Stop reported false")
	}
	after := calls.Load()
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != after {
		t.Errorf("fn was called %d times after Stop returned", n-after)
	}
	if task.Stop() {
		t.Error("a second Stop reported true")
	}
}

func TestStopCancelsTheCallInProgress(t *testing.T) {
	t.Parallel()
	var task Task
	entered := make(chan struct{})
	var canceled atomic.Bool
	task.Start(time.Millisecond, func(ctx context.Context) {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		canceled.Store(true)
	})
	<-entered
	task.Stop()
	if !canceled.Load() {
		t.Error("Stop returned before the call in progress ended")
	}
}

func TestNoStart(t *testing.T) {
	t.Parallel()
	never := func(context.Context) { t.Error("fn was called") }

	var disabled Task
	disabled.Start(0, never)
	disabled.Start(-time.Second, never)

	var stopped Task
	if !stopped.Stop() {
		t.Error("Stop before Start reported false")
	}
	stopped.Start(time.Millisecond, never)

	time.Sleep(20 * time.Millisecond)
	disabled.Stop()
	stopped.Stop()
}
