package main

import (
	"context"
	"fmt"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/redislimit"
)

// limiterKind is where rate-limit counts live. Unset, it follows the deployment: a
// PostgreSQL store or Redis sessions are there for several instances, and limits counted
// per instance would multiply by their number (5 wrong passwords per account become 10
// on two instances), so those default to Redis.
func limiterKind(o *options) (string, error) {
	switch o.limiter {
	case "memory", "redis":
		return o.limiter, nil
	case "":
		if o.store == "postgres" || o.sessions == "redis" {
			return "redis", nil
		}
		return "memory", nil
	default:
		return "", fmt.Errorf("unknown -limiter %q (want memory or redis)", o.limiter)
	}
}

// newLimiter opens the limiter; nil is restauth's default, in memory. Redis is checked
// once so that a wrong address fails at start-up: a limiter that cannot reach Redis lets
// every request through, which must not pass unnoticed.
func newLimiter(ctx context.Context, o *options, a *app) (restauth.Limiter, error) {
	kind, err := limiterKind(o)
	if err != nil || kind == "memory" {
		return nil, err
	}
	rdb := a.redis.limiterClient()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		how := "-limiter redis"
		if o.limiter == "" {
			how = "-limiter redis (the default with -store postgres or -sessions redis)"
		}
		return nil, fmt.Errorf("%s: redis at %s: %w (start Redis, point -redis or $RESTAUTH_REDIS_URL at it, or pass -limiter memory for a single instance)", how, a.redis, err)
	}
	a.closers = append(a.closers, func() { _ = rdb.Close() })
	return redislimit.New(rdb, redislimit.WithPrefix(o.redisPrefix)), nil
}
