package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Case (b): the session store (a private Redis) is killed while users log in. Every
// answer is 2xx or 503 in the 291 JSON shape with Retry-After; never 500, and no answer
// that is not 2xx carries a token that works (F1). A registration refused during the
// outage must not have committed: its retry after the outage succeeds.

func runSessionsDown(ctx context.Context, e *env, r *result) error {
	rd, err := startRedis(0)
	if err != nil {
		return err
	}
	defer func() { rd.kill() }()
	s, err := e.startServer(ctx, "sessions", "-store", "sqlite", "-db", filepath.Join(e.dir, "sessions.db"),
		"-sessions", "redis", "-redis", rd.addr(), "-limiter", "memory")
	if err != nil {
		return err
	}
	defer s.kill()
	c := newClient(s.base, nil, 30*time.Second)
	const users = 4
	for i := range users {
		if rep := c.post(ctx, "/api/auth/registration/", registration(fmt.Sprintf("sess%d", i))); rep.status/100 != 2 {
			return fmt.Errorf("registration before the outage: %s", rep)
		}
	}

	rd.kill()
	t := &tally{}
	var unsaved, liveTokens, badShape atomic.Int64
	parallel(e.scale.sessionLogins, e.scale.workers, func(i int) {
		rep := c.post(ctx, "/api/auth/login/", map[string]string{"username": fmt.Sprintf("sess%d", i%users), "password": testPassword})
		t.add(rep)
		switch {
		case rep.err != nil:
			r.violate("login while Redis is down: %v", rep.err)
		case rep.status/100 == 2:
		case rep.status == http.StatusServiceUnavailable && isJSONDetail(rep) && rep.header.Get("Retry-After") != "":
			unsaved.Add(1)
		default:
			badShape.Add(1)
			r.violate("login while Redis is down answered %s", rep)
		}
		if key, _ := rep.json()["key"].(string); key != "" && rep.status/100 != 2 {
			if me := c.do(ctx, http.MethodGet, "/api/user/me/", nil, map[string]string{"Authorization": "Token " + key}); me.status == http.StatusOK {
				liveTokens.Add(1)
			}
		}
	})
	if liveTokens.Load() > 0 {
		r.violate("%d failed logins handed out a token that works", liveTokens.Load())
	}
	reg := c.post(ctx, "/api/auth/registration/", registration("sessnew"))
	t.add(reg)
	r.note("while Redis is down: %d logins answered 503 (JSON, Retry-After), %d 2xx, %d other; registration answered %d",
		unsaved.Load(), t.acked, badShape.Load(), reg.status)
	r.addTally(t)

	rd, err = startRedis(rd.port)
	if err != nil {
		return err
	}
	if reg.status/100 != 2 {
		if retry := c.post(ctx, "/api/auth/registration/", registration("sessnew")); retry.status/100 != 2 {
			taken := strings.Contains(string(retry.body), "username")
			r.violate("registration answered %d during the outage, and its retry afterwards %s (committed: %v)", reg.status, retry, taken)
		}
	}
	recovered, after := waitFor(15*time.Second, func() bool {
		rep := c.post(ctx, "/api/auth/login/", map[string]string{"username": "sess0", "password": testPassword})
		return rep.status == http.StatusOK
	})
	if !recovered {
		r.violate("logins still fail 15 s after Redis is back")
	} else {
		r.note("logins work again %s after Redis restarted", after.Round(time.Millisecond))
	}
	r.RSS = fmtMB(s.rssKiB())
	return nil
}

// waitFor polls ok every 100 ms until it is true or limit passes.
func waitFor(limit time.Duration, ok func() bool) (bool, time.Duration) {
	start := time.Now()
	for time.Since(start) < limit {
		if ok() {
			return true, time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false, time.Since(start)
}
