package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"

	"github.com/restauth/restauth/redislimit"
)

// redisURLEnv names the variable that gives the Redis server when -redis does not: a
// password in a URL on the command line is visible to every user of the machine (ps).
const redisURLEnv = "RESTAUTH_REDIS_URL"

// defaultRedisAddr is the Redis server when neither -redis nor $RESTAUTH_REDIS_URL names one.
const defaultRedisAddr = "127.0.0.1:6379"

// redisTarget is the Redis server that both of the server's clients use: redigo for the
// sessions (scs's redisstore needs it) and go-redis for the limiter (redislimit's). It is
// parsed once, by go-redis, and redigo's dial options are built from the result, so that
// the two clients cannot read one URL two ways.
type redisTarget struct {
	opts goredis.Options // Network, Addr, Username, Password, DB and TLSConfig only
	// display is the address for logs and errors, with any password redacted.
	display string
}

// String is the target for logs and errors: never the password.
func (t *redisTarget) String() string { return t.display }

// usesRedis reports whether the flags put sessions or rate-limit counts in Redis; an
// unknown -limiter is newLimiter's to report.
func usesRedis(o *options) bool {
	kind, _ := limiterKind(o)
	return o.sessions == "redis" || kind == "redis"
}

// resolveRedis picks the Redis server: -redis when given, then $RESTAUTH_REDIS_URL, then
// 127.0.0.1:6379. An explicit flag wins, as flags do over the environment, so that one
// command can be pointed elsewhere without editing the environment. source names where
// the value came from, for the error if it does not parse.
func resolveRedis(flagValue string, getenv func(string) string) (value, source string) {
	if flagValue != "" {
		return flagValue, "-redis"
	}
	if v := getenv(redisURLEnv); v != "" {
		return v, "$" + redisURLEnv
	}
	return defaultRedisAddr, "-redis"
}

// errRedisUsage is the shape parseRedis accepts, repeated in each of its errors.
const errRedisUsage = "want host:port, redis://[user:password@]host:port[/db] or rediss://… for TLS"

// parseRedis parses a bare host:port (as -redis always took) or a redis:// or rediss://
// URL. Its errors never contain the password: url.Parse's quote the whole URL, so only
// their reason is kept.
func parseRedis(s string) (*redisTarget, error) {
	if !strings.Contains(s, "://") {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, fmt.Errorf("%q is not a Redis address: %s (%s)", s, reason(err), errRedisUsage)
		}
		return &redisTarget{opts: goredis.Options{Network: "tcp", Addr: s}, display: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a Redis URL: %s (%s)", reason(err), errRedisUsage)
	}
	display := u.Redacted()
	switch {
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return nil, fmt.Errorf("%s: unknown scheme %q (%s)", display, u.Scheme, errRedisUsage)
	case u.RawQuery != "":
		// go-redis reads options from the query and redigo does not: refuse them rather
		// than have the two clients connect differently.
		return nil, fmt.Errorf("%s: query parameters are not supported (%s)", display, errRedisUsage)
	case u.User != nil && u.User.Username() != "":
		if _, ok := u.User.Password(); !ok {
			// go-redis reads redis://name@host as a user name, redigo (like redis-cli) as
			// a password; the name is not repeated here, in case it is one.
			bare := *u
			bare.User = nil
			return nil, fmt.Errorf("%s: a user name without a password; for a password alone write redis://:password@host:port (%s)",
				bare.Redacted(), errRedisUsage)
		}
	}
	opts, err := goredis.ParseURL(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %s (%s)", display, strings.TrimPrefix(reason(err), "redis: "), errRedisUsage)
	}
	t := &redisTarget{display: display, opts: goredis.Options{
		Network: opts.Network, Addr: opts.Addr, Username: opts.Username, Password: opts.Password,
		DB: opts.DB, TLSConfig: opts.TLSConfig,
	}}
	return t, nil
}

// reason is err without the input that url.Parse and net.SplitHostPort quote in theirs.
func reason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return ae.Err
	}
	return err.Error()
}

// openRedis parses the Redis server the flags and the environment name, or returns nil
// when neither the sessions nor the limiter use Redis (a stray $RESTAUTH_REDIS_URL then
// stops nothing).
func openRedis(o *options, getenv func(string) string) (*redisTarget, error) {
	if !usesRedis(o) {
		return nil, nil
	}
	value, source := resolveRedis(o.redisAddr, getenv)
	t, err := parseRedis(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return t, nil
}

// dialOptions are redigo's options for t: the same user, password, database and TLS
// configuration (system roots, the host's name checked) as the limiter's client.
func (t *redisTarget) dialOptions() []redis.DialOption {
	opts := []redis.DialOption{
		redis.DialConnectTimeout(5 * time.Second),
		redis.DialUsername(t.opts.Username),
		redis.DialPassword(t.opts.Password),
		redis.DialDatabase(t.opts.DB),
	}
	if t.opts.TLSConfig != nil {
		opts = append(opts, redis.DialUseTLS(true), redis.DialTLSConfig(t.opts.TLSConfig))
	}
	return opts
}

// limiterClient is the limiter's client for t: redislimit's settings (its timeout on every
// phase, no retries) with t's user, password, database and TLS.
func (t *redisTarget) limiterClient() *goredis.Client {
	return redislimit.NewClientFor(&t.opts)
}

// openRedisSessions keeps sessions in Redis, so that instances on separate machines share
// them; the pool is checked once so that a wrong address or password fails at start-up,
// not at login.
func openRedisSessions(ctx context.Context, t *redisTarget) (scs.Store, func(), error) {
	dialOpts := t.dialOptions()
	pool := &redis.Pool{
		MaxIdle:     10,
		IdleTimeout: 4 * time.Minute,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, t.opts.Network, t.opts.Addr, dialOpts...)
		},
	}
	conn, err := pool.GetContext(ctx)
	if err == nil {
		_, err = conn.Do("PING")
		conn.Close()
	}
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("redis at %s: %w", t, err)
	}
	return redisstore.New(pool), func() { _ = pool.Close() }, nil
}
