package redislimit

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// deadAddr is a loopback port nothing listens on: dials to it are refused at once.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// breakerRig is a limiter on a dead address whose dials and commands are counted, and
// whose "Redis" can be brought back: then a hook answers the script as a healthy Redis
// allowing the event would, without the network.
type breakerRig struct {
	l        *limiter
	clock    *fakeClock
	dials    atomic.Int64
	commands atomic.Int64
	healthy  atomic.Bool
}

type rigHook struct{ r *breakerRig }

func (h rigHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h rigHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h rigHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.r.commands.Add(1)
		if !h.r.healthy.Load() {
			return next(ctx, cmd)
		}
		switch c := cmd.(type) {
		case *redis.Cmd: // EVALSHA of a script
			c.SetVal([]any{int64(1), int64(0)})
		case *redis.IntCmd: // DEL
			c.SetVal(1)
		}
		return nil
	}
}

func newBreakerRig(t *testing.T, failures int, coolDown time.Duration) *breakerRig {
	t.Helper()
	r := &breakerRig{clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	addr := deadAddr(t)
	rdb := redis.NewClient(&redis.Options{
		Addr: addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: DefaultTimeout,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			r.dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	})
	rdb.AddHook(rigHook{r})
	t.Cleanup(func() { _ = rdb.Close() })
	r.l = New(rdb, WithBreaker(failures, coolDown)).(*limiter)
	r.l.breaker.now = r.clock.now
	return r
}

// TestBreakerFailsFastWhileOpenAndClosesAfterProbe: after N consecutive failures the
// limiter answers ErrUnavailable without dialing until the cool-down ends, a failed probe
// opens it again, and a successful probe closes it.
func TestBreakerFailsFastWhileOpenAndClosesAfterProbe(t *testing.T) {
	t.Parallel()
	const failures, coolDown = 3, 10 * time.Second
	r := newBreakerRig(t, failures, coolDown)
	rule := restauth.RateRule{Name: "login_failed_account", Limit: 5, Window: time.Minute}
	ctx := context.Background()

	for i := range failures { // closed: each call reaches the dead address
		_, _, err := r.l.Allow(ctx, "user:1", rule)
		require.Error(t, err, "call %d", i+1)
		assert.NotErrorIs(t, err, ErrUnavailable, "call %d went to Redis", i+1)
	}
	require.Positive(t, r.dials.Load())
	dials, commands := r.dials.Load(), r.commands.Load()

	open := func(what string) {
		t.Helper()
		for range 10 {
			ok, _, err := r.l.Allow(ctx, "user:1", rule)
			require.ErrorIs(t, err, ErrUnavailable, what)
			assert.False(t, ok)
			require.ErrorIs(t, r.l.Refund(ctx, "user:1", rule), ErrUnavailable, what)
			require.ErrorIs(t, r.l.Reset(ctx, "user:1", rule), ErrUnavailable, what)
		}
		assert.Equal(t, dials, r.dials.Load(), "%s: no dial while open", what)
		assert.Equal(t, commands, r.commands.Load(), "%s: no command reaches the client while open", what)
	}
	open("open")
	r.clock.advance(coolDown - time.Nanosecond)
	open("just before the cool-down ends")

	// The cool-down ends: one probe, which fails, opens the breaker again.
	r.clock.advance(time.Nanosecond)
	_, _, err := r.l.Allow(ctx, "user:1", rule)
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrUnavailable, "the probe goes to Redis")
	assert.Greater(t, r.dials.Load(), dials, "the probe dials")
	dials, commands = r.dials.Load(), r.commands.Load()
	open("after a failed probe")

	// Redis is back: the next probe succeeds and the breaker closes.
	r.healthy.Store(true)
	r.clock.advance(coolDown)
	for i := range 2 * failures {
		ok, _, err := r.l.Allow(ctx, "user:1", rule)
		require.NoError(t, err, "call %d after recovery", i+1)
		assert.True(t, ok)
	}
	assert.Equal(t, commands+int64(2*failures), r.commands.Load(), "every call reaches Redis again")
	require.NoError(t, r.l.Reset(ctx, "user:1", rule))
}

// TestBreakerCountsConsecutiveFailuresOnly: a success in between starts the count again,
// a caller giving up does not count, and a threshold of 0 never opens.
func TestBreakerCountsConsecutiveFailuresOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		failures int
		steps    string // f: failure, s: success, a: abandoned by the caller
		wantOpen bool
	}{
		{"threshold reached", 3, "fff", true},
		{"success resets the count", 3, "ffsff", false},
		{"abandoned calls do not count", 3, "ffaaa", false},
		{"abandoned then failure", 3, "ffaf", true},
		{"off", 0, "ffffffffff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := &fakeClock{t: time.Unix(0, 0)}
			b := &breaker{threshold: tt.failures, coolDown: time.Second, now: clock.now}
			for _, step := range tt.steps {
				ok, probe := b.admit()
				require.True(t, ok)
				b.record(probe, step != 's', step == 'a')
			}
			ok, _ := b.admit()
			assert.Equal(t, tt.wantOpen, !ok)
		})
	}
}

// TestBreakerOneProbeAtATime: while a probe is out, other calls fail fast.
func TestBreakerOneProbeAtATime(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(0, 0)}
	b := &breaker{threshold: 1, coolDown: time.Second, now: clock.now}
	ok, probe := b.admit()
	require.True(t, ok)
	b.record(probe, true, false)
	clock.advance(time.Second)
	ok, probe = b.admit()
	require.True(t, ok)
	require.True(t, probe)
	ok, _ = b.admit()
	assert.False(t, ok, "a second call while the probe is out")
	b.record(true, false, false)
	ok, probe = b.admit()
	assert.True(t, ok)
	assert.False(t, probe, "closed again")
}

// TestNewClientTimeouts: NewClient's client takes the limiter's timeout and does not retry.
func TestNewClientTimeouts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts []Option
		want time.Duration
	}{{nil, DefaultTimeout}, {[]Option{WithTimeout(100 * time.Millisecond)}, 100 * time.Millisecond}} {
		rdb := NewClient("127.0.0.1:6379", tt.opts...)
		o := rdb.Options()
		assert.Equal(t, tt.want, o.DialTimeout)
		assert.Equal(t, tt.want, o.ReadTimeout)
		assert.Equal(t, tt.want, o.WriteTimeout)
		assert.Equal(t, tt.want, o.PoolTimeout)
		assert.True(t, o.ContextTimeoutEnabled)
		assert.Zero(t, o.MaxRetries, "go-redis stores -1 (no retries) as 0")
		_ = rdb.Close()
	}
}

// TestNewClientForKeepsTheServer: NewClientFor takes the server's address, credentials,
// database and TLS, and the limiter's timeouts and retries over the server's own.
func TestNewClientForKeepsTheServer(t *testing.T) {
	t.Parallel()
	server, err := redis.ParseURL("rediss://alice:pw@cache.example.com:6380/3?dial_timeout=30s&max_retries=5")
	require.NoError(t, err)
	rdb := NewClientFor(server, WithTimeout(100*time.Millisecond))
	t.Cleanup(func() { _ = rdb.Close() })
	o := rdb.Options()
	assert.Equal(t, "cache.example.com:6380", o.Addr)
	assert.Equal(t, "alice", o.Username)
	assert.Equal(t, "pw", o.Password)
	assert.Equal(t, 3, o.DB)
	require.NotNil(t, o.TLSConfig)
	assert.Equal(t, "cache.example.com", o.TLSConfig.ServerName)
	assert.Equal(t, 100*time.Millisecond, o.DialTimeout, "the limiter's timeout, not the URL's")
	assert.Equal(t, 100*time.Millisecond, o.ReadTimeout)
	assert.True(t, o.ContextTimeoutEnabled)
	assert.Zero(t, o.MaxRetries, "no retries, whatever the URL says")
}

// TestOutageCostsMilliseconds: with the defaults, a dead Redis answers in about one
// dial timeout while closed and at once while open.
func TestOutageCostsMilliseconds(t *testing.T) {
	t.Parallel()
	rdb := NewClient(deadAddr(t))
	t.Cleanup(func() { _ = rdb.Close() })
	l := New(rdb)
	rule := restauth.RateRule{Name: "r", Limit: 1, Window: time.Minute}
	start := time.Now()
	for range 100 {
		_, _, err := l.Allow(context.Background(), "k", rule)
		require.Error(t, err)
	}
	assert.Less(t, time.Since(start), time.Duration(DefaultBreakerFailures+1)*DefaultTimeout,
		"100 calls during an outage cost at most the breaker's failures times the timeout")
}
