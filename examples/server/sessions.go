package main

import (
	"context"
	"fmt"

	"github.com/alexedwards/scs/v2"
)

// newSessionStore picks where sessions live: in the account database when it can hold
// them (the default for database stores), in Redis, or in memory (nil: restauth's
// default). restauth builds the session manager on it and sets the cookie, Secure exactly
// when -site-url is https.
func newSessionStore(ctx context.Context, o *options, a *app) (scs.Store, error) {
	kind := o.sessions
	canStore := a.sessionStore != nil
	if kind == "" {
		kind = "memory"
		if canStore {
			kind = "store"
		}
	}
	switch kind {
	case "memory":
		return nil, nil // restauth's default: scs's in-memory store
	case "store":
		if !canStore {
			return nil, fmt.Errorf("-sessions store: the %s store cannot keep sessions", o.store)
		}
		return a.sessionStore, nil
	case "redis":
		store, closeFn, err := openRedisSessions(ctx, a.redis)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, closeFn)
		return store, nil
	default:
		return nil, fmt.Errorf("unknown -sessions %q (want memory, store or redis)", kind)
	}
}
