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
//
// # Outages
//
// restauth allows a request whose limiter fails (and logs it), so a Redis outage must
// cost as little time as possible. Every call is bounded by a short timeout
// (DefaultTimeout, 250 ms; WithTimeout), and a circuit breaker (WithBreaker) stops
// calling Redis after DefaultBreakerFailures consecutive failures: for
// DefaultBreakerCoolDown every call returns ErrUnavailable at once, without dialing; then
// one call probes Redis, and a success closes the breaker again. With Redis down, a
// request thus waits one timeout at most while the breaker is closed and nothing while
// it is open. The timeout reaches dialing and waiting for a pooled connection through the
// context; reads and writes honour it when the client has ContextTimeoutEnabled, as
// NewClient's has (NewClient also turns go-redis's own retries off, which would multiply
// the wait):
//
//	limiter := redislimit.New(redislimit.NewClient("127.0.0.1:6379"))
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

// DefaultTimeout bounds each call to Redis unless WithTimeout says otherwise: a healthy
// Redis on the same network answers in well under a millisecond.
const DefaultTimeout = 250 * time.Millisecond

// WithTimeout bounds each call (Allow, Refund, Reset) to d; d <= 0 leaves calls bounded
// by the caller's context and the client's own timeouts only. It also sets NewClient's
// dial, read, write and pool timeouts.
func WithTimeout(d time.Duration) Option {
	return func(l *limiter) { l.timeout = d }
}

// WithBreaker sets the circuit breaker: after failures consecutive failed calls, calls
// fail fast with ErrUnavailable for coolDown, then one call probes Redis again.
// failures <= 0 turns the breaker off.
func WithBreaker(failures int, coolDown time.Duration) Option {
	return func(l *limiter) { l.breaker.threshold, l.breaker.coolDown = failures, coolDown }
}

// limiter implements restauth.Limiter.
type limiter struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	breaker breaker
}

func configure(opts []Option) *limiter {
	l := &limiter{
		prefix:  DefaultPrefix,
		timeout: DefaultTimeout,
		breaker: breaker{threshold: DefaultBreakerFailures, coolDown: DefaultBreakerCoolDown, now: time.Now},
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

// New returns a restauth.Limiter, safe for concurrent use, that keeps its counts in rdb
// (a *redis.Client, *redis.ClusterClient or *redis.Ring). Limiters on the same Redis
// with the same prefix share their counts. A disabled rule never reaches Redis; a Redis
// error is returned wrapped (ErrUnavailable while the breaker is open), so the caller
// decides whether to fail open.
func New(rdb redis.UniversalClient, opts ...Option) restauth.Limiter {
	l := configure(opts)
	l.rdb = rdb
	return l
}

// NewClient returns a client for the Redis at addr made for a limiter: dial, read, write
// and pool timeouts equal to the limiter's timeout (DefaultTimeout or WithTimeout from
// opts), the context's deadline honoured, and no retries, so that a dead Redis costs one
// short timeout per call rather than seconds of retries. Close it when done.
func NewClient(addr string, opts ...Option) *redis.Client {
	return NewClientFor(&redis.Options{Addr: addr}, opts...)
}

// NewClientFor is NewClient for the Redis that server names: its Network, Addr, Username,
// Password, DB and TLSConfig (as redis.ParseURL gives them for a redis:// or rediss://
// URL), with the limiter's timeouts and no retries in place of server's other settings.
// server is copied, not kept.
func NewClientFor(server *redis.Options, opts ...Option) *redis.Client {
	l := configure(opts)
	return redis.NewClient(&redis.Options{
		Network:               server.Network,
		Addr:                  server.Addr,
		Username:              server.Username,
		Password:              server.Password,
		DB:                    server.DB,
		TLSConfig:             server.TLSConfig,
		DialTimeout:           l.timeout,
		ReadTimeout:           l.timeout,
		WriteTimeout:          l.timeout,
		PoolTimeout:           l.timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialerRetries:         1,
	})
}

// call runs fn against Redis through the breaker, bounded by the limiter's timeout.
func (l *limiter) call(ctx context.Context, fn func(ctx context.Context) error) error {
	ok, probe := l.breaker.admit()
	if !ok {
		return ErrUnavailable
	}
	callCtx := ctx
	if l.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, l.timeout)
		defer cancel()
	}
	err := fn(callCtx)
	l.breaker.record(probe, err != nil, err != nil && ctx.Err() != nil)
	if err != nil {
		return fmt.Errorf("redislimit: %w", err)
	}
	return nil
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
	var res []int64
	err := l.call(ctx, func(ctx context.Context) (err error) {
		res, err = allowScript.Run(ctx, l.rdb, []string{l.key(key, rule)},
			rule.Limit, windowUS, int64(windowMS), strconv.FormatUint(rand.Uint64(), 36)).Int64Slice()
		return err
	})
	return l.answer(res, err, rule)
}

// answer turns a script's {allowed, µs to wait} reply into Allow's results.
func (l *limiter) answer(res []int64, err error, rule restauth.RateRule) (bool, time.Duration, error) {
	if err != nil {
		return false, 0, err
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
	return l.call(ctx, func(ctx context.Context) error {
		return refundScript.Run(ctx, l.rdb, []string{l.key(key, rule)}).Err()
	})
}

// Reset implements restauth.Limiter.
func (l *limiter) Reset(ctx context.Context, key string, rule restauth.RateRule) error {
	return l.call(ctx, func(ctx context.Context) error {
		return l.rdb.Del(ctx, l.key(key, rule)).Err()
	})
}
