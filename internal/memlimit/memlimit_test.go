package memlimit

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rlClock is a settable clock for the limiter.
type rlClock struct {
	mu sync.Mutex
	t  time.Time
}

func newRLClock() *rlClock { return &rlClock{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *rlClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *rlClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestMemoryLimiterAllowThenRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rule   Rule
		spacer time.Duration // clock advance between allowed events
		retry  time.Duration // expected retryAfter of the first refusal
	}{
		{"burst", Rule{Name: "r", Limit: 5, Window: 5 * time.Minute}, 0, 5 * time.Minute},
		{"spread", Rule{Name: "r", Limit: 3, Window: time.Minute}, 10 * time.Second, 40 * time.Second},
		{"single", Rule{Name: "r", Limit: 1, Window: 3 * time.Minute}, 0, 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newRLClock()
			l := New(clock.Now, DefaultMaxKeys)
			for i := range tt.rule.Limit {
				ok, retry := l.Allow("ip:192.0.2.1", tt.rule)
				require.True(t, ok, "event %d", i+1)
				assert.Zero(t, retry)
				clock.Advance(tt.spacer)
			}
			ok, retry := l.Allow("ip:192.0.2.1", tt.rule)
			require.False(t, ok)
			tt.retry -= tt.spacer // the clock moved once more after the last allowed event
			assert.Equal(t, tt.retry, retry)

			// A refused event is not recorded: just before retryAfter still refused, with
			// the remaining time; at retryAfter allowed again.
			clock.Advance(retry - time.Second)
			ok, retry2 := l.Allow("ip:192.0.2.1", tt.rule)
			require.False(t, ok)
			assert.Equal(t, time.Second, retry2)
			clock.Advance(time.Second)
			ok, _ = l.Allow("ip:192.0.2.1", tt.rule)
			assert.True(t, ok)
		})
	}
}

func TestMemoryLimiterWindowSlides(t *testing.T) {
	t.Parallel()
	clock := newRLClock()
	l := New(clock.Now, DefaultMaxKeys)
	rule := Rule{Name: "r", Limit: 2, Window: time.Minute}
	allow := func() bool {
		ok, _ := l.Allow("k", rule)
		return ok
	}
	require.True(t, allow()) // t=0
	clock.Advance(30 * time.Second)
	require.True(t, allow())  // t=30
	require.False(t, allow()) // 2 in the last minute
	clock.Advance(30 * time.Second)
	require.True(t, allow(), "the t=0 event left the window at t=60")
	require.False(t, allow())
	clock.Advance(2 * time.Minute)
	require.True(t, allow(), "a whole window later everything is forgotten")
	require.True(t, allow())
	require.False(t, allow())
}

func TestMemoryLimiterKeysAndRulesIndependent(t *testing.T) {
	t.Parallel()
	l := New(newRLClock().Now, DefaultMaxKeys)
	a := Rule{Name: "a", Limit: 1, Window: time.Minute}
	b := Rule{Name: "b", Limit: 1, Window: time.Minute}
	tests := []struct {
		key  string
		rule Rule
		want bool
	}{
		{"ip:192.0.2.1", a, true},
		{"ip:192.0.2.1", a, false},
		{"ip:192.0.2.2", a, true},
		{"ip:192.0.2.1", b, true}, // same key, other rule
		{"ip:192.0.2.1", b, false},
		{"ip:192.0.2.2", a, false},
		{"", a, true}, // the empty key is a key like any other
		{"", a, false},
	}
	for i, tt := range tests {
		ok, _ := l.Allow(tt.key, tt.rule)
		assert.Equal(t, tt.want, ok, "step %d: %s %q", i, tt.rule.Name, tt.key)
	}
}

func TestMemoryLimiterReset(t *testing.T) {
	t.Parallel()
	l := New(newRLClock().Now, DefaultMaxKeys)
	rule := Rule{Name: "login", Limit: 2, Window: time.Hour}
	other := Rule{Name: "other", Limit: 1, Window: time.Hour}
	for range 2 {
		ok, _ := l.Allow("user:alice", rule)
		require.True(t, ok)
	}
	for _, k := range []string{"user:alice", "user:bob"} {
		ok, _ := l.Allow(k, other)
		require.True(t, ok)
	}
	ok, _ := l.Allow("user:alice", rule)
	require.False(t, ok)

	l.Reset("user:alice", rule.Name)
	l.Reset("user:nobody", rule.Name)
	for range 2 {
		ok, _ = l.Allow("user:alice", rule)
		assert.True(t, ok, "reset forgets the key's events")
	}
	for _, k := range []string{"user:alice", "user:bob"} {
		ok, _ = l.Allow(k, other)
		assert.False(t, ok, "reset touches no other rule: %s", k)
	}
}

func TestMemoryLimiterDisabledRule(t *testing.T) {
	t.Parallel()
	for _, rule := range []Rule{
		{Name: "zero", Limit: 0, Window: time.Minute},
		{Name: "negative", Limit: -1, Window: time.Minute},
		{Name: "nowindow", Limit: 1, Window: 0},
		{},
	} {
		l := New(newRLClock().Now, DefaultMaxKeys)
		for range 100 {
			ok, retry := l.Allow("k", rule)
			require.True(t, ok, rule.Name)
			require.Zero(t, retry)
		}
		assert.Zero(t, l.Len(), "a disabled rule records nothing")
		l.Reset("k", rule.Name)
	}
}

func TestMemoryLimiterConcurrent(t *testing.T) {
	t.Parallel()
	l := New(nil, DefaultMaxKeys) // the real clock: nothing leaves a one-hour window during the test
	rule := Rule{Name: "c", Limit: 7, Window: time.Hour}
	var allowed, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 100 {
		wg.Go(func() {
			<-start
			ok, retry := l.Allow("shared", rule)
			if ok {
				allowed.Add(1)
			} else {
				refused.Add(1)
				assert.Positive(t, retry)
				assert.LessOrEqual(t, retry, rule.Window)
			}
			// Traffic on other keys and rules at the same time.
			l.Allow("other:"+strconv.Itoa(i), rule)
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, rule.Limit, allowed.Load())
	assert.EqualValues(t, 100-rule.Limit, refused.Load())
}

func TestMemoryLimiterEvictsExpired(t *testing.T) {
	t.Parallel()
	clock := newRLClock()
	l := New(clock.Now, DefaultMaxKeys)
	rule := Rule{Name: "spray", Limit: 3, Window: time.Minute}
	const perRound = 2000
	for round := range 20 {
		for i := range perRound {
			ok, _ := l.Allow("email:"+strconv.Itoa(round)+":"+strconv.Itoa(i), rule)
			require.True(t, ok)
		}
		// Each call drops expired entries, so what is left beyond the live round is small.
		assert.LessOrEqual(t, l.Len(), 2*perRound, "round %d", round)
		clock.Advance(rule.Window)
	}
	// Past the sweep interval, the first call reaching a shard drops everything expired
	// in it; the probes themselves are reset at once.
	clock.Advance(sweepEvery)
	probe := Rule{Name: "probe", Limit: 1, Window: time.Minute}
	for i := 0; l.Len() > 0 && i < 100*Shards; i++ {
		l.Allow("probe:"+strconv.Itoa(i), probe)
		l.Reset("probe:"+strconv.Itoa(i), probe.Name)
	}
	assert.Zero(t, l.Len())
}

func TestMemoryLimiterMaxKeysBoundsMemory(t *testing.T) {
	t.Parallel()
	clock := newRLClock()
	const maxKeys = 256
	l := New(clock.Now, maxKeys)
	rule := Rule{Name: "spray", Limit: 5, Window: time.Hour}
	victim := Rule{Name: "login", Limit: 2, Window: time.Hour}
	for range 2 {
		ok, _ := l.Allow("user:victim", victim)
		require.True(t, ok)
	}
	// An attacker sprays keys that never expire within the test while the victim's key
	// stays in use; the limiter never holds more than maxKeys and, being LRU, keeps the
	// key in use.
	for i := range 20_000 {
		l.Allow("ip:"+strconv.Itoa(i), rule)
		require.LessOrEqual(t, l.Len(), maxKeys)
		if i%16 == 0 {
			ok, _ := l.Allow("user:victim", victim)
			require.False(t, ok, "the victim's count survived %d sprayed keys", i)
		}
	}
	assert.Equal(t, maxKeys, l.Len(), "full, not more")
}

func TestMemoryLimiterSurvivesClockGoingBack(t *testing.T) {
	t.Parallel()
	clock := newRLClock()
	l := New(clock.Now, DefaultMaxKeys)
	rule := Rule{Name: "r", Limit: 1, Window: time.Minute}
	ok, _ := l.Allow("k", rule)
	require.True(t, ok)
	clock.Advance(-time.Hour)
	ok, retry := l.Allow("k", rule)
	assert.False(t, ok)
	assert.Equal(t, rule.Window, retry, "retryAfter never exceeds the window")
}

func BenchmarkMemoryLimiterAllow(b *testing.B) {
	rule := Rule{Name: "bench", Limit: 10, Window: time.Minute}
	b.Run("hot key", func(b *testing.B) {
		l := New(nil, DefaultMaxKeys)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = l.Allow("ip:192.0.2.1", rule)
		}
	})
	b.Run("1000 keys parallel", func(b *testing.B) {
		l := New(nil, DefaultMaxKeys)
		keys := make([]string, 1000)
		for i := range keys {
			keys[i] = "ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _ = l.Allow(keys[i%len(keys)], rule)
				i++
			}
		})
	})
}

// Refund gives back the newest event: a refunded attempt leaves room for one more.
func TestMemoryLimiterRefund(t *testing.T) {
	t.Parallel()
	clock := newRLClock()
	l := New(clock.Now, DefaultMaxKeys)
	rule := Rule{Name: "r", Limit: 2, Window: time.Minute}

	l.Refund("k", rule.Name)
	for range 2 {
		allowed, _ := l.Allow("k", rule)
		require.True(t, allowed)
	}
	allowed, _ := l.Allow("k", rule)
	require.False(t, allowed)
	l.Refund("k", rule.Name)
	allowed, _ = l.Allow("k", rule)
	assert.True(t, allowed, "the refunded event left room")
	allowed, _ = l.Allow("k", rule)
	assert.False(t, allowed)
	l.Refund("other", rule.Name)
	allowed, _ = l.Allow("k", rule)
	assert.False(t, allowed, "keys are independent")
}
