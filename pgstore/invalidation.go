package pgstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/restauth/restauth"
)

// invalidationChannel is the channel migration 0009's triggers notify, with payloads
// "<schema>:<user id>".
const invalidationChannel = "restauth_invalidate"

// listenerApplicationName is the application_name of WatchInvalidations' connections.
const listenerApplicationName = "restauth invalidations"

var _ restauth.InvalidationNotifier = (*Store)(nil)

// WatchInvalidations implements restauth.InvalidationNotifier through PostgreSQL's
// LISTEN/NOTIFY: triggers on the tables notify every change to what a user's tokens
// authenticate as when its transaction commits, made by any instance or tool (see
// migration 0009), and a connection of its own, outside the pool, listens. It returns once
// that connection listens (a failure to connect within the pool's connect timeout is an
// error). Should the connection break, it connects again (waiting up to 5 s between
// tries) and then calls fn(0), since changes may have been missed meanwhile; a restauth
// token cache therefore lags at most by its TTL while the database is unreachable to the
// listener. The connection, whose application_name is "restauth invalidations", closes
// when ctx ends.
func (s *Store) WatchInvalidations(ctx context.Context, fn func(userID int64)) error {
	if s.root != nil {
		s = s.root
	}
	conn, schema, err := s.listen(ctx)
	if err != nil {
		return storeErr(err, "invalidations", "listen")
	}
	go s.watchInvalidations(ctx, conn, schema, fn)
	return nil
}

// listen opens the listening connection and returns it with the schema whose changes
// concern the store (for an unqualified store, the connection's current schema).
func (s *Store) listen(ctx context.Context) (*pgx.Conn, string, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	// Named, so that an operator (or a test) tells it from the pool's connections.
	cfg.RuntimeParams["application_name"] = listenerApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, "", err
	}
	schema := s.opts.schema
	if schema == "" {
		err = conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema)
	}
	if err == nil {
		_, err = conn.Exec(ctx, "LISTEN "+invalidationChannel)
	}
	if err != nil {
		_ = conn.Close(context.Background())
		return nil, "", err
	}
	return conn, schema, nil
}

// watchInvalidations delivers the notifications of conn to fn until ctx ends, connecting
// again when the connection breaks.
func (s *Store) watchInvalidations(ctx context.Context, conn *pgx.Conn, schema string, fn func(int64)) {
	prefix := schema + ":"
	for {
		n, err := conn.WaitForNotification(ctx)
		if err == nil {
			if id, ok := strings.CutPrefix(n.Payload, prefix); ok {
				if uid, err := strconv.ParseInt(id, 10, 64); err == nil && uid > 0 {
					fn(uid)
				}
			}
			continue
		}
		_ = conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		if conn = s.relisten(ctx); conn == nil {
			return // ctx ended
		}
		fn(0) // what happened while nobody listened is unknown
	}
}

// relisten connects and listens again, backing off from 100 ms to 5 s between tries,
// until it succeeds or ctx ends (nil).
func (s *Store) relisten(ctx context.Context) *pgx.Conn {
	wait := 100 * time.Millisecond
	for {
		conn, _, err := s.listen(ctx)
		if err == nil {
			return conn
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
	}
}
