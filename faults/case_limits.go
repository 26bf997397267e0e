package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Case (f): two instances share a PostgreSQL store and a Redis limiter; one account gets
// wrong passwords from one address through both, alternately. Only the limit's 5 are
// checked, not 5 per instance (F7). The same on two instances with -limiter memory is
// printed for comparison: that is the configuration F7 found.

const loginLimit = 5 // restauth's LoginFailedPerAccount default

// limiterDownBound bounds a login while the limiter's Redis is down: F7 saw 3.7-7.3 s.
const limiterDownBound = 2 * time.Second

func runSharedLimits(ctx context.Context, e *env, r *result) error {
	pg, err := e.postgres(ctx)
	if err != nil {
		return err
	}
	rd, err := startRedis(0)
	if err != nil {
		return err
	}
	defer rd.kill() // again after redisDown: kill waits for an exit that has happened
	t := &tally{}
	down := &tally{}
	redisDown := func(clients []*client) {
		// Then Redis goes away: limits fail open (documented), and must cost milliseconds
		// (redislimit's timeout and circuit breaker), not seconds, per login.
		rd.kill()
		for i := range 10 {
			rep := clients[i%2].post(ctx, "/api/auth/login/", map[string]string{"username": "limitsvictim", "password": "wrong-password-2"})
			down.add(rep)
			if rep.err != nil || rep.status >= 500 && rep.status != http.StatusServiceUnavailable {
				r.violate("login with the limiter's Redis down answered %s", rep)
			}
		}
	}
	shared, err := wrongPasswords(ctx, e, t, redisDown, "limits", "-dsn", pg.dsn, "-pg-schema", "limits", "-limiter", "redis", "-redis", rd.addr())
	if err != nil {
		return err
	}
	perInstance, err := wrongPasswords(ctx, e, t, nil, "limitsmem", "-dsn", pg.dsn, "-pg-schema", "limitsmem", "-limiter", "memory")
	if err != nil {
		return err
	}
	r.addTally(t)
	r.addTally(down) // p99 is the logins' with Redis down
	r.note("with the limiter's Redis killed: %d logins, p99 %s (bound %s)", down.requests, fmtDuration(down.p99()), limiterDownBound)
	if p := down.p99(); p > limiterDownBound {
		r.violate("logins with the limiter's Redis down took %s (p99), over %s", p, limiterDownBound)
	}
	r.note("wrong passwords checked for one account on two instances: %d with -limiter redis, %d with -limiter memory (limit %d)",
		shared, perInstance, loginLimit)
	if shared > loginLimit {
		r.violate("two instances sharing redislimit checked %d wrong passwords, not %d", shared, loginLimit)
	}
	return nil
}

// wrongPasswords starts two instances with args, registers a user on the first and sends
// 12 wrong passwords alternately to both from one address; it returns how many were
// checked (refused as wrong) rather than throttled. then, if set, runs on the two
// instances' clients before they stop.
func wrongPasswords(ctx context.Context, e *env, t *tally, then func([]*client), label string, args ...string) (int, error) {
	args = append([]string{"-store", "postgres"}, args...)
	var clients []*client
	ip := net.IPv4(127, 254, 254, byte(len(label)))
	for _, name := range []string{label + "-a", label + "-b"} {
		s, err := e.startServer(ctx, name, args...)
		if err != nil {
			return 0, err
		}
		defer s.kill()
		clients = append(clients, newClient(s.base, ip, 30*time.Second))
	}
	reg := newClient(clients[0].base, nil, 30*time.Second)
	if rep := reg.post(ctx, "/api/auth/registration/", registration(label+"victim")); rep.status/100 != 2 {
		return 0, fmt.Errorf("registration: %s", rep)
	}
	checked := 0
	for i := range 12 {
		rep := clients[i%2].post(ctx, "/api/auth/login/", map[string]string{"username": label + "victim", "password": "wrong-password-1"})
		t.add(rep)
		switch rep.status {
		case http.StatusBadRequest, http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
		default:
			return checked, fmt.Errorf("wrong password answered %s", rep)
		}
	}
	if then != nil {
		then(clients)
	}
	return checked, nil
}
