package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
	"github.com/restauth/restauth/sqlitestore"
)

// This file checks a crashed server's database afterwards, through the store itself:
// every acknowledged registration exists, exactly once.

// checkUsers counts the acknowledged usernames missing from the store (lost) and those
// stored more than once under their address (duplicates).
func checkUsers(ctx context.Context, st restauth.UserStore, names []string) (lost, duplicates int, err error) {
	for _, name := range names {
		u, err := st.UserByUsername(ctx, name)
		if err != nil && !isNotFound(err) {
			return 0, 0, fmt.Errorf("look up %s: %w", name, err)
		}
		users, err := st.UsersByEmail(ctx, name+"@example.com")
		if err != nil {
			return 0, 0, fmt.Errorf("look up %s's address: %w", name, err)
		}
		switch {
		case u == nil || len(users) == 0:
			lost++
		case len(users) > 1:
			duplicates += len(users) - 1
		}
	}
	return lost, duplicates, nil
}

func isNotFound(err error) bool { return err != nil && errors.Is(err, restauth.ErrNotFound) }

func checkSQLite(ctx context.Context, path string, names []string) (int, int, error) {
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	return checkUsers(ctx, st, names)
}

func checkPostgres(ctx context.Context, dsn, schema string, names []string) (int, int, error) {
	st, err := pgstore.Open(ctx, dsn, pgstore.WithSchema(schema))
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	return checkUsers(ctx, st, names)
}
