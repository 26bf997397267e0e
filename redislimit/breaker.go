package redislimit

import (
	"errors"
	"sync"
	"time"
)

// ErrUnavailable is returned, without contacting Redis, while the circuit breaker is open:
// the last calls failed and the cool-down has not ended. restauth treats it like any
// limiter error (the request is allowed and the failure logged), so an outage costs no
// time per request.
var ErrUnavailable = errors.New("redislimit: Redis unavailable (circuit open after repeated failures)")

// Defaults of the circuit breaker (WithBreaker).
const (
	DefaultBreakerFailures = 5
	DefaultBreakerCoolDown = 5 * time.Second
)

// breaker is a consecutive-failure circuit breaker. Closed, every call goes through; after
// threshold consecutive failures it opens and every call fails fast until coolDown has
// passed; then one call at a time probes Redis (half-open): a success closes it, a
// failure opens it for another coolDown. Calls are not queued behind the probe: they fail
// fast too, since a probe against a dead address costs up to a timeout.
type breaker struct {
	threshold int // <= 0: never opens
	coolDown  time.Duration
	now       func() time.Time

	mu        sync.Mutex
	failures  int
	openUntil time.Time
	probing   bool
}

// admit reports whether a call may go to Redis and whether it is the half-open probe.
func (b *breaker) admit() (ok, probe bool) {
	if b.threshold <= 0 {
		return true, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.failures < b.threshold:
		return true, false
	case b.now().Before(b.openUntil), b.probing:
		return false, false
	default:
		b.probing = true
		return true, true
	}
}

// record notes the outcome of an admitted call. abandoned calls (the caller's context
// ended first) say nothing about Redis and only give the probe slot back.
func (b *breaker) record(probe, failed, abandoned bool) {
	if b.threshold <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	switch {
	case abandoned:
	case !failed:
		b.failures = 0
	default:
		b.failures++
		if b.failures >= b.threshold {
			b.openUntil = b.now().Add(b.coolDown)
		}
	}
}
