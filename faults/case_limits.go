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

func runSharedLimits(ctx context.Context, e *env, r *result) error {
	pg, err := e.postgres(ctx)
	if err != nil {
		return err
	}
	rd, err := startRedis(0)
	if err != nil {
		return err
	}
	defer rd.kill()
	t := &tally{}
	shared, err := wrongPasswords(ctx, e, t, "limits", "-dsn", pg.dsn, "-pg-schema", "limits", "-limiter", "redis", "-redis", rd.addr())
	if err != nil {
		return err
	}
	perInstance, err := wrongPasswords(ctx, e, t, "limitsmem", "-dsn", pg.dsn, "-pg-schema", "limitsmem", "-limiter", "memory")
	if err != nil {
		return err
	}
	r.addTally(t)
	r.note("wrong passwords checked for one account on two instances: %d with -limiter redis, %d with -limiter memory (limit %d)",
		shared, perInstance, loginLimit)
	if shared > loginLimit {
		r.violate("two instances sharing redislimit checked %d wrong passwords, not %d", shared, loginLimit)
	}
	return nil
}

// wrongPasswords starts two instances with args, registers a user on the first and sends
// 12 wrong passwords alternately to both from one address; it returns how many were
// checked (refused as wrong) rather than throttled.
func wrongPasswords(ctx context.Context, e *env, t *tally, label string, args ...string) (int, error) {
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
	return checked, nil
}
