package main

import (
	"context"
	"errors"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
)

func init() {
	storeOpeners["postgres"] = func(ctx context.Context, o *options, a *app) (restauth.Store, error) {
		if o.dsn == "" {
			return nil, errors.New("-store postgres needs -dsn (e.g. postgres://user@127.0.0.1:5432/db)")
		}
		st, err := pgstore.Open(ctx, o.dsn, pgstore.WithSchema(o.pgSchema))
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, st.Close)
		a.sessionStore = st.SessionStore()
		return st, nil
	}
}
