package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// testRedis connects to RESTAUTH_TEST_REDIS_ADDR, skipping the test when it is unset, and
// returns the client and a random key prefix whose keys are deleted when the test ends.
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv("RESTAUTH_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("set RESTAUTH_TEST_REDIS_ADDR (e.g. 127.0.0.1:6379) to run the Redis limiter tests")
	}
	rdb := newClient(t, addr)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "restauth-test:" + hex.EncodeToString(b) + ":rl:"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return rdb, prefix
}

// newClient returns a client of its own (its own connection pool), as another instance
// of the service would have.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	require.NoError(t, rdb.Ping(context.Background()).Err(), "Redis at %s", addr)
	return rdb
}

func allow(t *testing.T, l restauth.Limiter, key string, rule restauth.RateRule) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(context.Background(), key, rule)
	require.NoError(t, err)
	return ok, retry
}

func TestRedisLimitAllowThenRefuse(t *testing.T) {
	t.Parallel()
	rdb, prefix := testRedis(t)
	tests := []struct {
		name string
		rule restauth.RateRule
	}{
		{"login per account", restauth.RateRule{Name: "login_failed_account", Limit: 5, Window: 5 * time.Minute}},
		{"single", restauth.RateRule{Name: "confirm_email_email", Limit: 1, Window: 3 * time.Minute}},
		{"window not in whole ms", restauth.RateRule{Name: "tiny", Limit: 3, Window: time.Hour + 500*time.Microsecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := New(rdb, WithPrefix(prefix))
			for i := range tt.rule.Limit {
				ok, retry := allow(t, l, "user:42", tt.rule)
				require.True(t, ok, "event %d", i+1)
				assert.Zero(t, retry)
			}
			for range 3 { // refusals are not recorded and do not move the oldest event
				ok, retry := allow(t, l, "user:42", tt.rule)
				require.False(t, ok)
				assert.Positive(t, retry)
				assert.LessOrEqual(t, retry, tt.rule.Window)
				assert.Greater(t, retry, tt.rule.Window/2, "the oldest event is recent")
			}
			n, err := rdb.ZCard(context.Background(), prefix+tt.rule.Name+":user:42").Result()
			require.NoError(t, err)
			assert.EqualValues(t, tt.rule.Limit, n, "only allowed events are logged")
		})
	}
}

func TestRedisLimitKeyLayoutAndExpiry(t *testing.T) {
	t.Parallel()
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	rule := restauth.RateRule{Name: "signup_ip", Limit: 20, Window: time.Minute}
	ok, _ := allow(t, New(rdb, WithPrefix(prefix)), "ip:192.0.2.1", rule)
	require.True(t, ok)
	key := prefix + "signup_ip:ip:192.0.2.1"
	typ, err := rdb.Type(ctx, key).Result()
	require.NoError(t, err)
	assert.Equal(t, "zset", typ)
	ttl, err := rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Positive(t, ttl, "the key expires")
	assert.LessOrEqual(t, ttl, rule.Window, "one window after its last event")

	assert.Equal(t, "restauth:rl:signup_ip:ip:192.0.2.1", New(rdb).(*limiter).key("ip:192.0.2.1", rule), "default prefix")
}

func TestRedisLimitWindowSlides(t *testing.T) {
	t.Parallel()
	rdb, prefix := testRedis(t)
	l := New(rdb, WithPrefix(prefix))
	rule := restauth.RateRule{Name: "short", Limit: 2, Window: 300 * time.Millisecond}
	for range 2 {
		ok, _ := allow(t, l, "k", rule)
		require.True(t, ok)
	}
	ok, retry := allow(t, l, "k", rule)
	require.False(t, ok)
	require.LessOrEqual(t, retry, rule.Window)
	// The window is measured by the Redis server's clock; wait for it without asserting
	// how long it takes.
	require.Eventually(t, func() bool {
		ok, _, err := l.Allow(context.Background(), "k", rule)
		return err == nil && ok
	}, 10*time.Second, 20*time.Millisecond, "events leave the window")
}

func TestRedisLimitKeysAndRulesIndependent(t *testing.T) {
	t.Parallel()
	rdb, prefix := testRedis(t)
	l := New(rdb, WithPrefix(prefix))
	a := restauth.RateRule{Name: "a", Limit: 1, Window: time.Hour}
	b := restauth.RateRule{Name: "b", Limit: 1, Window: time.Hour}
	tests := []struct {
		key  string
		rule restauth.RateRule
		want bool
	}{
		{"ip:192.0.2.1", a, true},
		{"ip:192.0.2.1", a, false},
		{"ip:192.0.2.2", a, true},
		{"ip:192.0.2.1", b, true},
		{"ip:192.0.2.1", b, false},
		{"ip:192.0.2.2", a, false},
	}
	for i, tt := range tests {
		ok, _ := allow(t, l, tt.key, tt.rule)
		assert.Equal(t, tt.want, ok, "step %d: %s %q", i, tt.rule.Name, tt.key)
	}
	// Another prefix is another namespace.
	ok, _ := allow(t, New(rdb, WithPrefix(prefix+"other:")), "ip:192.0.2.1", a)
	assert.True(t, ok)
}

func TestRedisLimitReset(t *testing.T) {
	t.Parallel()
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	l := New(rdb, WithPrefix(prefix))
	rule := restauth.RateRule{Name: "login_failed_account", Limit: 2, Window: time.Hour}
	other := restauth.RateRule{Name: "other", Limit: 1, Window: time.Hour}
	for range 2 {
		ok, _ := allow(t, l, "login:alice", rule)
		require.True(t, ok)
	}
	ok, _ := allow(t, l, "login:alice", other)
	require.True(t, ok)
	ok, _ = allow(t, l, "login:alice", rule)
	require.False(t, ok)

	require.NoError(t, l.Reset(ctx, "login:alice", rule))
	require.NoError(t, l.Reset(ctx, "login:nobody", rule))
	for range 2 {
		ok, _ = allow(t, l, "login:alice", rule)
		assert.True(t, ok, "reset forgets the key's events")
	}
	ok, _ = allow(t, l, "login:alice", other)
	assert.False(t, ok, "reset touches no other rule")
}

func TestRedisLimitDisabledRule(t *testing.T) {
	t.Parallel()
	// A disabled rule never reaches Redis: not even an unreachable one.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = dead.Close() })
	l := New(dead)
	for _, rule := range []restauth.RateRule{{Name: "zero"}, {Name: "neg", Limit: -1, Window: time.Minute}, {Name: "nowindow", Limit: 3}} {
		for range 10 {
			ok, retry := allow(t, l, "k", rule)
			require.True(t, ok, rule.Name)
			require.Zero(t, retry)
		}
	}
}

func TestRedisLimitErrors(t *testing.T) {
	t.Parallel()
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = dead.Close() })
	l := New(dead)
	rule := restauth.RateRule{Name: "r", Limit: 1, Window: time.Minute}
	ok, _, err := l.Allow(context.Background(), "k", rule)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "redislimit:")
	assert.False(t, ok)
	require.Error(t, l.Reset(context.Background(), "k", rule))
}

// TestRedisLimitSharedBetweenLimiters is what makes the limiter useful behind a load
// balancer: two Limiters with their own connections count together, also under
// concurrency.
func TestRedisLimitSharedBetweenLimiters(t *testing.T) {
	t.Parallel()
	rdb1, prefix := testRedis(t)
	rdb2 := newClient(t, os.Getenv("RESTAUTH_TEST_REDIS_ADDR"))
	l1, l2 := New(rdb1, WithPrefix(prefix)), New(rdb2, WithPrefix(prefix))

	t.Run("alternating", func(t *testing.T) {
		rule := restauth.RateRule{Name: "login_failed_ip", Limit: 10, Window: time.Hour}
		for i := range 10 {
			ok, _ := allow(t, []restauth.Limiter{l1, l2}[i%2], "ip:192.0.2.1", rule)
			require.True(t, ok, "event %d", i+1)
		}
		for _, l := range []restauth.Limiter{l1, l2} {
			ok, retry := allow(t, l, "ip:192.0.2.1", rule)
			assert.False(t, ok, "the limit is shared")
			assert.Positive(t, retry)
		}
		require.NoError(t, l2.Reset(context.Background(), "ip:192.0.2.1", rule))
		ok, _ := allow(t, l1, "ip:192.0.2.1", rule)
		assert.True(t, ok, "a reset through one limiter is seen by the other")
	})

	t.Run("concurrent", func(t *testing.T) {
		rule := restauth.RateRule{Name: "signup_ip", Limit: 20, Window: time.Hour}
		var allowed, refused atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 100 {
			l := []restauth.Limiter{l1, l2}[i%2]
			wg.Go(func() {
				<-start
				ok, _, err := l.Allow(context.Background(), "ip:198.51.100.9", rule)
				if !assert.NoError(t, err) {
					return
				}
				if ok {
					allowed.Add(1)
				} else {
					refused.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		assert.EqualValues(t, rule.Limit, allowed.Load(), "exactly Limit allowed across both limiters")
		assert.EqualValues(t, 100-rule.Limit, refused.Load())
	})
}

func BenchmarkRedisLimitAllow(b *testing.B) {
	rdb, prefix := testRedis(b)
	l := New(rdb, WithPrefix(prefix))
	rule := restauth.RateRule{Name: "bench", Limit: 10, Window: time.Minute}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, _, _ = l.Allow(ctx, "ip:"+strconv.Itoa(i%1000), rule)
		i++
	}
}

// Refund gives back the newest event.
func TestRedisLimitRefund(t *testing.T) {
	t.Parallel()
	rdb, prefix := testRedis(t)
	ctx := context.Background()
	l := New(rdb, WithPrefix(prefix))
	rf, ok := l.(restauth.LimitRefunder)
	require.True(t, ok, "the Redis limiter is a LimitRefunder")
	rule := restauth.RateRule{Name: "refund", Limit: 2, Window: time.Minute}
	require.NoError(t, rf.Refund(ctx, "user:7", rule), "refunding nothing is no error")
	for range 2 {
		allowed, _ := allow(t, l, "user:7", rule)
		require.True(t, allowed)
	}
	allowed, _ := allow(t, l, "user:7", rule)
	require.False(t, allowed)
	require.NoError(t, rf.Refund(ctx, "user:7", rule))
	n, err := rdb.ZCard(ctx, prefix+"refund:user:7").Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	allowed, _ = allow(t, l, "user:7", rule)
	assert.True(t, allowed, "the refunded event left room")
}
