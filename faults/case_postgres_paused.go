package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Case (d): the private PostgreSQL is frozen (SIGSTOP to the postmaster and every
// backend) while clients call. Each request answers 503 in the 291 JSON shape with
// Retry-After within the store deadline (Config.StoreTimeout, 5 s by default, plus a
// margin for the answer), never 500; after SIGCONT the same server serves again (F5).

const (
	storeDeadline = 5 * time.Second
	answerMargin  = 3 * time.Second
)

func runPostgresPaused(ctx context.Context, e *env, r *result) error {
	pg, err := e.postgres(ctx)
	if err != nil {
		return err
	}
	s, err := e.startServer(ctx, "postgres-paused", "-store", "postgres", "-dsn", pg.dsn, "-pg-schema", "paused", "-limiter", "memory")
	if err != nil {
		return err
	}
	defer s.kill()
	c := newClient(s.base, nil, 60*time.Second)
	if rep := c.post(ctx, "/api/auth/registration/", registration("paused")); rep.status/100 != 2 {
		return fmt.Errorf("registration before the freeze: %s", rep)
	}
	login := c.post(ctx, "/api/auth/login/", map[string]string{"username": "paused", "password": testPassword})
	key, _ := login.json()["key"].(string)
	if key == "" {
		return fmt.Errorf("login before the freeze: %s", login)
	}
	auth := map[string]string{"Authorization": "Token " + key}

	if err := pg.freeze(); err != nil {
		return err
	}
	defer func() { _ = pg.thaw() }()
	t := &tally{}
	var over int
	parallel(e.scale.pausedRequests, e.scale.workers, func(i int) {
		var rep reply
		if i%2 == 0 {
			rep = c.do(ctx, http.MethodGet, "/api/user/me/", nil, auth)
		} else {
			rep = c.post(ctx, "/api/auth/login/", map[string]string{"username": "paused", "password": testPassword})
		}
		t.add(rep)
		switch {
		case rep.err != nil:
			r.violate("no answer while PostgreSQL is frozen: %v", rep.err)
		case rep.status == http.StatusServiceUnavailable:
			if !isJSONDetail(rep) || rep.header.Get("Retry-After") == "" {
				r.violate("503 not in the JSON shape with Retry-After: %s", rep)
			}
		case rep.status >= 500:
			r.violate("answered %s while PostgreSQL is frozen", rep)
		}
		if rep.dur > storeDeadline+answerMargin {
			resultMu.Lock()
			over++
			resultMu.Unlock()
		}
	})
	if over > 0 {
		r.violate("%d requests waited longer than the store deadline %s + %s", over, storeDeadline, answerMargin)
	}
	if err := pg.thaw(); err != nil {
		return err
	}
	recovered, after := waitFor(20*time.Second, func() bool {
		return c.do(ctx, http.MethodGet, "/api/user/me/", nil, auth).status == http.StatusOK
	})
	if !recovered {
		r.violate("the server did not serve again within 20 s of PostgreSQL resuming")
	} else {
		r.note("served again %s after SIGCONT, without a restart; %d of %d requests answered 503 during the freeze",
			after.Round(time.Millisecond), t.status5xx, t.requests)
	}
	r.addTally(t)
	r.Acknowledged = t.acked
	r.RSS = fmtMB(s.rssKiB())
	return nil
}
