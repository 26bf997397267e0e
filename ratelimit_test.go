package restauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rlClock is a settable clock for the memory limiter.
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

func TestRateLimitsDefaults(t *testing.T) {
	t.Parallel()
	d := DefaultRateLimits()
	tests := []struct {
		name   string
		rule   RateRule
		limit  int
		window time.Duration
	}{
		{RuleLoginFailedAccount, d.LoginFailedPerAccount, 5, 5 * time.Minute},
		{RuleLoginFailedIP, d.LoginFailedPerIP, 10, time.Minute},
		{RuleResetIP, d.ResetPerIP, 20, time.Minute},
		{RuleResetEmail, d.ResetPerEmail, 5, 5 * time.Minute},
		{RuleSignupIP, d.SignupPerIP, 20, time.Minute},
		{RulePasswordChangeUser, d.PasswordChangePerUser, 10, 5 * time.Minute},
		{RuleResendEmail, d.ResendPerEmail, 1, 3 * time.Minute},
		{RuleMFAFailedUser, d.MFAFailedPerUser, 20, 24 * time.Hour},
	}
	for _, tt := range tests {
		assert.Equal(t, RateRule{Name: tt.name, Limit: tt.limit, Window: tt.window}, tt.rule, tt.name)
		assert.True(t, tt.rule.Enabled(), tt.name)
	}
	require.NoError(t, d.validate())
	assert.Len(t, d.rules(), len(tests), "every rule is listed")
	assert.Equal(t, "signup_ip: 20 per 1m0s", d.SignupPerIP.String())
}

func TestRateLimitsWithDefaultsAndValidate(t *testing.T) {
	t.Parallel()
	custom := RateLimits{
		SignupPerIP:    RateRule{Limit: 3, Window: time.Hour},
		ResendPerEmail: RateRule{Limit: -1},
		ResetPerIP:     RateRule{Name: "my_reset", Limit: 1, Window: time.Second},
	}.withDefaults()
	def := DefaultRateLimits()
	assert.Equal(t, def.LoginFailedPerAccount, custom.LoginFailedPerAccount, "zero rule takes its default")
	assert.Equal(t, RateRule{Name: RuleSignupIP, Limit: 3, Window: time.Hour}, custom.SignupPerIP, "nameless rule takes its default name")
	assert.Equal(t, RateRule{Name: RuleResendEmail, Limit: -1}, custom.ResendPerEmail)
	assert.False(t, custom.ResendPerEmail.Enabled())
	assert.Equal(t, "confirm_email_email: disabled", custom.ResendPerEmail.String())
	assert.Equal(t, "my_reset", custom.ResetPerIP.Name)
	require.NoError(t, custom.validate())

	dup := DefaultRateLimits()
	dup.ResetPerEmail.Name = dup.ResetPerIP.Name
	require.ErrorIs(t, dup.validate(), ErrConfig)
	for _, bad := range []string{"a:b", "with space", "ü"} {
		rl := DefaultRateLimits()
		rl.SignupPerIP.Name = bad
		require.ErrorIs(t, rl.validate(), ErrConfig, bad)
	}
}

func TestMemoryLimiterAllowThenRefuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		rule   RateRule
		spacer time.Duration // clock advance between allowed events
		retry  time.Duration // expected retryAfter of the first refusal
	}{
		{"burst", RateRule{Name: "r", Limit: 5, Window: 5 * time.Minute}, 0, 5 * time.Minute},
		{"spread", RateRule{Name: "r", Limit: 3, Window: time.Minute}, 10 * time.Second, 40 * time.Second},
		{"single", RateRule{Name: "r", Limit: 1, Window: 3 * time.Minute}, 0, 3 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := newRLClock()
			l := NewMemoryLimiter(clock.Now)
			for i := range tt.rule.Limit {
				ok, retry, err := l.Allow(ctx, "ip:192.0.2.1", tt.rule)
				require.NoError(t, err)
				require.True(t, ok, "event %d", i+1)
				assert.Zero(t, retry)
				clock.Advance(tt.spacer)
			}
			ok, retry, err := l.Allow(ctx, "ip:192.0.2.1", tt.rule)
			require.NoError(t, err)
			require.False(t, ok)
			tt.retry -= tt.spacer // the clock moved once more after the last allowed event
			assert.Equal(t, tt.retry, retry)

			// A refused event is not recorded: just before retryAfter still refused, with
			// the remaining time; at retryAfter allowed again.
			clock.Advance(retry - time.Second)
			ok, retry2, err := l.Allow(ctx, "ip:192.0.2.1", tt.rule)
			require.NoError(t, err)
			require.False(t, ok)
			assert.Equal(t, time.Second, retry2)
			clock.Advance(time.Second)
			ok, _, err = l.Allow(ctx, "ip:192.0.2.1", tt.rule)
			require.NoError(t, err)
			assert.True(t, ok)
		})
	}
}

func TestMemoryLimiterWindowSlides(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newRLClock()
	l := NewMemoryLimiter(clock.Now)
	rule := RateRule{Name: "r", Limit: 2, Window: time.Minute}
	allow := func() bool {
		ok, _, err := l.Allow(ctx, "k", rule)
		require.NoError(t, err)
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
	ctx := context.Background()
	l := NewMemoryLimiter(newRLClock().Now)
	a := RateRule{Name: "a", Limit: 1, Window: time.Minute}
	b := RateRule{Name: "b", Limit: 1, Window: time.Minute}
	tests := []struct {
		key  string
		rule RateRule
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
		ok, _, err := l.Allow(ctx, tt.key, tt.rule)
		require.NoError(t, err)
		assert.Equal(t, tt.want, ok, "step %d: %s %q", i, tt.rule.Name, tt.key)
	}
}

func TestMemoryLimiterReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := NewMemoryLimiter(newRLClock().Now)
	rule := RateRule{Name: "login", Limit: 2, Window: time.Hour}
	other := RateRule{Name: "other", Limit: 1, Window: time.Hour}
	for range 2 {
		ok, _, err := l.Allow(ctx, "user:alice", rule)
		require.NoError(t, err)
		require.True(t, ok)
	}
	for _, k := range []string{"user:alice", "user:bob"} {
		ok, _, err := l.Allow(ctx, k, other)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, _, err := l.Allow(ctx, "user:alice", rule)
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, l.Reset(ctx, "user:alice", rule))
	require.NoError(t, l.Reset(ctx, "user:nobody", rule), "resetting an unknown key is fine")
	for range 2 {
		ok, _, err = l.Allow(ctx, "user:alice", rule)
		require.NoError(t, err)
		assert.True(t, ok, "reset forgets the key's events")
	}
	for _, k := range []string{"user:alice", "user:bob"} {
		ok, _, err = l.Allow(ctx, k, other)
		require.NoError(t, err)
		assert.False(t, ok, "reset touches no other rule: %s", k)
	}
}

func TestMemoryLimiterDisabledRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, rule := range []RateRule{
		{Name: "zero", Limit: 0, Window: time.Minute},
		{Name: "negative", Limit: -1, Window: time.Minute},
		{Name: "nowindow", Limit: 1, Window: 0},
		{},
	} {
		l := NewMemoryLimiter(newRLClock().Now)
		for range 100 {
			ok, retry, err := l.Allow(ctx, "k", rule)
			require.NoError(t, err)
			require.True(t, ok, rule.Name)
			require.Zero(t, retry)
		}
		assert.Zero(t, l.(*memoryLimiter).len(), "a disabled rule records nothing")
		require.NoError(t, l.Reset(ctx, "k", rule))
	}
}

func TestMemoryLimiterConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := NewMemoryLimiter(nil) // the real clock: nothing leaves a one-hour window during the test
	rule := RateRule{Name: "c", Limit: 7, Window: time.Hour}
	var allowed, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 100 {
		wg.Go(func() {
			<-start
			ok, retry, err := l.Allow(ctx, "shared", rule)
			assert.NoError(t, err)
			if ok {
				allowed.Add(1)
			} else {
				refused.Add(1)
				assert.Positive(t, retry)
				assert.LessOrEqual(t, retry, rule.Window)
			}
			// Traffic on other keys and rules at the same time.
			_, _, err = l.Allow(ctx, "other:"+strconv.Itoa(i), rule)
			assert.NoError(t, err)
		})
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, rule.Limit, allowed.Load())
	assert.EqualValues(t, 100-rule.Limit, refused.Load())
}

func TestMemoryLimiterEvictsExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newRLClock()
	l := NewMemoryLimiter(clock.Now)
	ml := l.(*memoryLimiter)
	rule := RateRule{Name: "spray", Limit: 3, Window: time.Minute}
	const perRound = 2000
	for round := range 20 {
		for i := range perRound {
			ok, _, err := l.Allow(ctx, "email:"+strconv.Itoa(round)+":"+strconv.Itoa(i), rule)
			require.NoError(t, err)
			require.True(t, ok)
		}
		// Each call drops expired entries, so what is left beyond the live round is small.
		assert.LessOrEqual(t, ml.len(), 2*perRound, "round %d", round)
		clock.Advance(rule.Window)
	}
	// Past the sweep interval, the first call reaching a shard drops everything expired
	// in it; the probes themselves are reset at once.
	clock.Advance(memorySweepEvery)
	probe := RateRule{Name: "probe", Limit: 1, Window: time.Minute}
	for i := 0; ml.len() > 0 && i < 100*memoryShards; i++ {
		_, _, err := l.Allow(ctx, "probe:"+strconv.Itoa(i), probe)
		require.NoError(t, err)
		require.NoError(t, l.Reset(ctx, "probe:"+strconv.Itoa(i), probe))
	}
	assert.Zero(t, ml.len())
}

func TestMemoryLimiterMaxKeysBoundsMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newRLClock()
	const maxKeys = 256
	l := NewMemoryLimiter(clock.Now, WithMemoryMaxKeys(maxKeys))
	ml := l.(*memoryLimiter)
	rule := RateRule{Name: "spray", Limit: 5, Window: time.Hour}
	victim := RateRule{Name: "login", Limit: 2, Window: time.Hour}
	for range 2 {
		ok, _, err := l.Allow(ctx, "user:victim", victim)
		require.NoError(t, err)
		require.True(t, ok)
	}
	// An attacker sprays keys that never expire within the test while the victim's key
	// stays in use; the limiter never holds more than maxKeys and, being LRU, keeps the
	// key in use.
	for i := range 20_000 {
		_, _, err := l.Allow(ctx, "ip:"+strconv.Itoa(i), rule)
		require.NoError(t, err)
		require.LessOrEqual(t, ml.len(), maxKeys)
		if i%16 == 0 {
			ok, _, err := l.Allow(ctx, "user:victim", victim)
			require.NoError(t, err)
			require.False(t, ok, "the victim's count survived %d sprayed keys", i)
		}
	}
	assert.Equal(t, maxKeys, ml.len(), "full, not more")
}

func TestMemoryLimiterSurvivesClockGoingBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newRLClock()
	l := NewMemoryLimiter(clock.Now)
	rule := RateRule{Name: "r", Limit: 1, Window: time.Minute}
	ok, _, err := l.Allow(ctx, "k", rule)
	require.NoError(t, err)
	require.True(t, ok)
	clock.Advance(-time.Hour)
	ok, retry, err := l.Allow(ctx, "k", rule)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, rule.Window, retry, "retryAfter never exceeds the window")
}

func TestRateThrottleSeconds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want int
	}{
		{-time.Second, 1},
		{0, 1},
		{time.Nanosecond, 1},
		{time.Second, 1},
		{time.Second + time.Nanosecond, 2},
		{59*time.Second + 500*time.Millisecond, 60},
		{5 * time.Minute, 300},
		{time.Duration(1<<63 - 1), int((1<<63-1)/int64(time.Second)) + 1},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, throttleSeconds(tt.in), tt.in.String())
	}
}

// rlFailingLimiter fails every call.
type rlFailingLimiter struct{}

var errRLUnavailable = errors.New("limiter unavailable")

func (rlFailingLimiter) Allow(context.Context, string, RateRule) (bool, time.Duration, error) {
	return false, 0, errRLUnavailable
}
func (rlFailingLimiter) Reset(context.Context, string, RateRule) error { return errRLUnavailable }

func TestRateAllowRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := NewMemoryLimiter(newRLClock().Now)
	rule := RateRule{Name: "r", Limit: 1, Window: 90 * time.Second}
	require.NoError(t, allowRate(ctx, l, rule, "k"))
	err := allowRate(ctx, l, rule, "k")
	var terr *ThrottledError
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, 90, terr.RetryAfterSeconds)

	require.NoError(t, allowRate(ctx, nil, rule, "k"), "no limiter, no limit")
	require.NoError(t, allowRate(ctx, rlFailingLimiter{}, RateRule{Name: "off"}, "k"), "a disabled rule never asks")
	err = allowRate(ctx, rlFailingLimiter{}, rule, "k")
	require.ErrorIs(t, err, errRLUnavailable)
	assert.NotErrorAs(t, err, &terr)
}

func TestRateKeyHash(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := rateKeyHash(secret, "email", "Alice@Example.com")
	assert.Regexp(t, `^email:[0-9a-f]{32}$`, k)
	assert.NotContains(t, k, "alice")
	assert.Equal(t, k, rateKeyHash(secret, "email", "alice@example.COM"), "case-insensitive")
	assert.Equal(t, rateKeyHash(secret, "login", "jess"), rateKeyHash(secret, "login", "je\u017fs"),
		"a long s is an s to a store that folds Unicode: one count for both spellings")
	assert.NotEqual(t, k, rateKeyHash(secret, "email", "bob@example.com"))
	assert.NotEqual(t, k[len("email:"):], rateKeyHash(secret, "login", "alice@example.com")[len("login:"):], "kinds are separated")
	assert.NotEqual(t, k, rateKeyHash([]byte("another secret, also 32 bytes long"), "email", "alice@example.com"))
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("192.0.2.254/32"),
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies", "198.51.100.7:5123", nil, nil, "198.51.100.7"},
		{"no proxies ignores XFF", "198.51.100.7:5123", []string{"203.0.113.9"}, nil, "198.51.100.7"},
		{"untrusted peer with spoofed XFF", "198.51.100.7:5123", []string{"10.1.1.1, 203.0.113.9"}, proxies, "198.51.100.7"},
		{"trusted proxy, single client", "10.0.0.2:80", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"trusted proxy chain, spoofed left part", "10.0.0.2:80", []string{"1.1.1.1, 203.0.113.9, 10.0.0.5 ,192.0.2.254"}, proxies, "203.0.113.9"},
		{"chain over several header lines", "10.0.0.2:80", []string{"1.1.1.1, 203.0.113.9", "10.0.0.5", "192.0.2.254"}, proxies, "203.0.113.9"},
		{"trusted proxy without XFF", "10.0.0.2:80", nil, proxies, "10.0.0.2"},
		{"all entries trusted: leftmost", "10.0.0.2:80", []string{"10.9.9.9, 10.0.0.5"}, proxies, "10.9.9.9"},
		{"garbage stops at last trusted hop", "10.0.0.2:80", []string{"203.0.113.9, nonsense, 10.0.0.5"}, proxies, "10.0.0.5"},
		{"empty entry stops too", "10.0.0.2:80", []string{"203.0.113.9,,"}, proxies, "10.0.0.2"},
		{"XFF entry with port", "10.0.0.2:80", []string{"203.0.113.9:4711"}, proxies, "203.0.113.9"},
		{"XFF bracketed IPv6", "10.0.0.2:80", []string{"[2001:db8:1:2::77]"}, proxies, "2001:db8:1:2::/64"},
		{"IPv6 grouped by /64", "[2001:db8:aa:bb:cc:dd:ee:ff]:443", nil, nil, "2001:db8:aa:bb::/64"},
		{"IPv6 same /64 same key", "[2001:db8:aa:bb::1]:443", nil, nil, "2001:db8:aa:bb::/64"},
		{"IPv6 zone dropped", "[fe80::1%eth0]:443", nil, nil, "fe80::/64"},
		{"IPv6 trusted proxy", "[fd00::1]:443", []string{"2001:db8:5::9"}, proxies, "2001:db8:5::/64"},
		{"IPv4-mapped IPv6 peer", "[::ffff:198.51.100.7]:80", nil, nil, "198.51.100.7"},
		{"IPv4-mapped IPv6 trusted proxy", "[::ffff:10.0.0.2]:80", []string{"203.0.113.9"}, proxies, "203.0.113.9"},
		{"RemoteAddr without port", "198.51.100.7", nil, nil, "198.51.100.7"},
		{"malformed RemoteAddr", "not-an-ip:80", []string{"203.0.113.9"}, proxies, ""},
		{"empty RemoteAddr", "", []string{"203.0.113.9"}, proxies, ""},
		{"unix socket RemoteAddr", "@", nil, proxies, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/api/auth/login/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tt.want, clientIP(r, tt.trusted))
		})
	}
}

func BenchmarkMemoryLimiterAllow(b *testing.B) {
	ctx := context.Background()
	rule := RateRule{Name: "bench", Limit: 10, Window: time.Minute}
	b.Run("hot key", func(b *testing.B) {
		l := NewMemoryLimiter(nil)
		b.ReportAllocs()
		for b.Loop() {
			_, _, _ = l.Allow(ctx, "ip:192.0.2.1", rule)
		}
	})
	b.Run("1000 keys parallel", func(b *testing.B) {
		l := NewMemoryLimiter(nil)
		keys := make([]string, 1000)
		for i := range keys {
			keys[i] = "ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
		}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _, _ = l.Allow(ctx, keys[i%len(keys)], rule)
				i++
			}
		})
	})
}

// Refund gives back the newest event: a refunded attempt leaves room for one more.
func TestMemoryLimiterRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newRLClock()
	l := NewMemoryLimiter(clock.Now)
	rf, ok := l.(LimitRefunder)
	require.True(t, ok, "the memory limiter is a LimitRefunder")
	rule := RateRule{Name: "r", Limit: 2, Window: time.Minute}

	require.NoError(t, rf.Refund(ctx, "k", rule), "refunding nothing is no error")
	for range 2 {
		allowed, _, err := l.Allow(ctx, "k", rule)
		require.NoError(t, err)
		require.True(t, allowed)
	}
	allowed, _, _ := l.Allow(ctx, "k", rule)
	require.False(t, allowed)
	require.NoError(t, rf.Refund(ctx, "k", rule))
	allowed, _, _ = l.Allow(ctx, "k", rule)
	assert.True(t, allowed, "the refunded event left room")
	allowed, _, _ = l.Allow(ctx, "k", rule)
	assert.False(t, allowed)
	require.NoError(t, rf.Refund(ctx, "other", rule))
	allowed, _, _ = l.Allow(ctx, "k", rule)
	assert.False(t, allowed, "keys are independent")
}
