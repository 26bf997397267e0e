package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/gomodule/redigo/redis"
)

// openRedisSessions keeps sessions in Redis, so that instances on separate machines share
// them; the pool is checked once so that a wrong address fails at start-up, not at login.
func openRedisSessions(ctx context.Context, addr string) (scs.Store, func(), error) {
	pool := &redis.Pool{
		MaxIdle:     10,
		IdleTimeout: 4 * time.Minute,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, "tcp", addr, redis.DialConnectTimeout(5*time.Second))
		},
	}
	conn, err := pool.GetContext(ctx)
	if err == nil {
		_, err = conn.Do("PING")
		conn.Close()
	}
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("redis at %s: %w", addr, err)
	}
	return redisstore.New(pool), func() { _ = pool.Close() }, nil
}
