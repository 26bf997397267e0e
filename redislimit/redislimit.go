// Package redislimit is a restauth.Limiter backed by Redis, so that every instance of a
// service behind a load balancer counts against the same limits.
//
// It is a module of its own so that restauth itself does not depend on a Redis client:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	limiter := redislimit.New(rdb)
//
// Each (rule, key) is a sorted set "restauth:rl:<rule>:<key>" holding the times of the
// events in the rule's sliding window (the log allauth keeps in its cache), updated by
// one Lua script, so concurrent calls from any number of instances are atomic. Times come
// from the Redis server (TIME), so instances with skewed clocks agree, and every key
// expires one window after its last event. Keys are stored as given, so callers should
// hash e-mail addresses and other personal values before passing them: then a dump of
// the Redis holds no addresses.
//
// Redis 3.2 or newer is required; Redis Cluster works, since the script touches one key.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/restauth/restauth"
)

// DefaultPrefix starts every key the limiter writes.
const DefaultPrefix = "restauth:rl:"

// Option configures New.
type Option func(*limiter)

// WithPrefix replaces DefaultPrefix, e.g. to keep two applications sharing a Redis apart.
// The key of an event is prefix + rule name + ":" + key.
func WithPrefix(prefix string) Option {
	return func(l *limiter) { l.prefix = prefix }
}

// limiter implements restauth.Limiter.
type limiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a restauth.Limiter, safe for concurrent use, that keeps its counts in rdb
// (a *redis.Client, *redis.ClusterClient or *redis.Ring). Limiters on the same Redis
// with the same prefix share their counts. A disabled rule never reaches Redis; a Redis
// error is returned as is (wrapped), so the caller decides whether to fail open.
func New(rdb redis.UniversalClient, opts ...Option) restauth.Limiter {
	l := &limiter{rdb: rdb, prefix: DefaultPrefix}
	for _, o := range opts {
		o(l)
	}
	return l
}

// allowScript is the sliding-window log.
//
// KEYS[1] the sorted set of event times (µs since the epoch, by the server's clock)
// ARGV[1] limit, ARGV[2] window in µs, ARGV[3] window in ms (rounded up) for PEXPIRE,
// ARGV[4] a random suffix that keeps members of events in the same µs distinct.
//
// It returns {1, 0} when the event is allowed (and recorded), else {0, µs until the
// next event would be allowed}. Numbers going to Redis are formatted with %.0f: they are
// integers below 2^53, exact in Lua's doubles, but Lua's default formatting would round
// them to 14 digits.
var allowScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now), t[1] .. '.' .. t[2] .. '.' .. ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
`)

// refundScript removes the newest event of the log (ZPOPMAX needs Redis 5; this does not).
var refundScript = redis.NewScript(`
local newest = redis.call('ZREVRANGE', KEYS[1], 0, 0)
if newest[1] then redis.call('ZREM', KEYS[1], newest[1]) end
return 0
`)

// key is the Redis key of (rule, key).
func (l *limiter) key(key string, rule restauth.RateRule) string {
	return l.prefix + rule.Name + ":" + key
}

// Allow implements restauth.Limiter.
func (l *limiter) Allow(ctx context.Context, key string, rule restauth.RateRule) (bool, time.Duration, error) {
	if !rule.Enabled() {
		return true, 0, nil
	}
	windowUS := max(rule.Window.Microseconds(), 1)
	windowMS := (rule.Window + time.Millisecond - 1) / time.Millisecond
	res, err := allowScript.Run(ctx, l.rdb, []string{l.key(key, rule)},
		rule.Limit, windowUS, int64(windowMS), strconv.FormatUint(rand.Uint64(), 36)).Int64Slice()
	return l.answer(res, err, rule)
}

// answer turns a script's {allowed, µs to wait} reply into Allow's results.
func (l *limiter) answer(res []int64, err error, rule restauth.RateRule) (bool, time.Duration, error) {
	if err != nil {
		return false, 0, fmt.Errorf("redislimit: %w", err)
	}
	if len(res) != 2 {
		return false, 0, errors.New("redislimit: unexpected script reply")
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	retry := time.Duration(res[1]) * time.Microsecond
	return false, min(max(retry, time.Microsecond), rule.Window), nil
}

// Refund implements restauth.LimitRefunder: the newest event of the log goes.
func (l *limiter) Refund(ctx context.Context, key string, rule restauth.RateRule) error {
	if err := refundScript.Run(ctx, l.rdb, []string{l.key(key, rule)}).Err(); err != nil {
		return fmt.Errorf("redislimit: %w", err)
	}
	return nil
}

// Reset implements restauth.Limiter.
func (l *limiter) Reset(ctx context.Context, key string, rule restauth.RateRule) error {
	if err := l.rdb.Del(ctx, l.key(key, rule)).Err(); err != nil {
		return fmt.Errorf("redislimit: %w", err)
	}
	return nil
}
