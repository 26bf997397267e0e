package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
)

// newSessions builds the session manager: in the account database when it can hold them
// (the default for database stores), in Redis, or in memory.
func newSessions(ctx context.Context, o *options, a *app) (*scs.SessionManager, error) {
	sm := scs.New()
	sm.Lifetime = 14 * 24 * time.Hour
	sm.Cookie.Secure = len(o.siteURL) > 5 && o.siteURL[:6] == "https:"
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
		sm.Store = memstore.New()
	case "store":
		if !canStore {
			return nil, fmt.Errorf("-sessions store: the %s store cannot keep sessions", o.store)
		}
		sm.Store = a.sessionStore
	case "redis":
		store, closeFn, err := openRedisSessions(ctx, o.redisAddr)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, closeFn)
		sm.Store = store
	default:
		return nil, fmt.Errorf("unknown -sessions %q (want memory, store or redis)", kind)
	}
	return sm, nil
}
