package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/restauth/restauth"
)

// DefaultInvalidationPoll is how often WatchInvalidations reads the change log unless
// WithInvalidationPoll says otherwise.
const DefaultInvalidationPoll = 250 * time.Millisecond

// WithInvalidationPoll sets how often WatchInvalidations reads the change log: the
// longest another process's revocation goes unseen by this process's token cache.
func WithInvalidationPoll(d time.Duration) Option {
	return func(c *config) { c.invalidationPoll = d }
}

var _ restauth.InvalidationNotifier = (*Store)(nil)

// WatchInvalidations implements restauth.InvalidationNotifier. SQLite cannot notify
// another process, so triggers (migration 0009) append the id of each user whose row,
// tokens, addresses or second factors change to a log table, in the change's own
// transaction, and the watch reads the rows past the last it saw every
// DefaultInvalidationPoll (WithInvalidationPoll): one indexed read of no rows, most of the
// time. A process sharing the file therefore sees another's revocation within the poll
// interval. When the log was pruned past what it last saw, or a read failed, it calls
// fn(0). It returns once it has read where the log stands, and stops when ctx ends or the
// store closes.
func (s *Store) WatchInvalidations(ctx context.Context, fn func(userID int64)) error {
	if s.root != nil {
		s = s.root
	}
	var last int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT ifnull(max(id), 0) FROM token_invalidations`).Scan(&last); err != nil {
		return fmt.Errorf("sqlitestore: watch invalidations: %w", err)
	}
	go s.pollInvalidations(ctx, last, fn)
	return nil
}

// pollInvalidations reads the log every poll interval until ctx ends or the store closes.
func (s *Store) pollInvalidations(ctx context.Context, last int64, fn func(int64)) {
	tick := time.NewTicker(s.invalidationPoll)
	defer tick.Stop()
	failed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case <-tick.C:
		}
		next, err := s.readInvalidations(ctx, last, fn)
		switch {
		case err != nil:
			failed = true
			continue
		case failed:
			failed = false
			fn(0) // what the failed reads would have reported is unknown
		}
		last = next
	}
}

// readInvalidations reports the log's rows after last and returns the last id read.
func (s *Store) readInvalidations(ctx context.Context, last int64, fn func(int64)) (int64, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, user_id FROM token_invalidations WHERE id > ? ORDER BY id`, last)
	if err != nil {
		return last, err
	}
	defer rows.Close()
	first := true
	for rows.Next() {
		var id, userID int64
		if err := rows.Scan(&id, &userID); err != nil {
			return last, err
		}
		if first && id != last+1 {
			fn(0) // pruned past what was seen last: rows were missed
		}
		first = false
		fn(userID)
		last = id
	}
	return last, rows.Err()
}
