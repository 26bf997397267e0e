package main

import (
	"context"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
)

func init() {
	storeOpeners["sqlite"] = func(ctx context.Context, o *options, a *app) (restauth.Store, error) {
		st, err := sqlitestore.Open(ctx, o.dbPath)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, func() { _ = st.Close() })
		a.sessionStore = st.SessionStore()
		return st, nil
	}
}
