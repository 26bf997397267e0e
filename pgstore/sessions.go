package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5"
)

// SessionStore keeps github.com/alexedwards/scs/v2 sessions in the store's sessions table
// (token text primary key, data bytea, expiry timestamptz), so that every instance on the
// database sees every session. Besides scs.Store it implements scs.CtxStore, which scs
// prefers (the request's context then bounds each query), and scs.IterableStore and
// scs.IterableCtxStore. Get one with (*Store).SessionStore.
type SessionStore struct {
	s *Store
}

// Compile-time checks of the scs interfaces.
var (
	_ scs.Store            = (*SessionStore)(nil)
	_ scs.CtxStore         = (*SessionStore)(nil)
	_ scs.IterableStore    = (*SessionStore)(nil)
	_ scs.IterableCtxStore = (*SessionStore)(nil)
)

// sessionCleanupTimeout bounds one round of the session cleanup, and so how long Close
// waits for a round in progress.
const sessionCleanupTimeout = 2 * time.Second

// SessionStore returns a session store for scs (pass it as restauth.Config.Sessions.Store)
// on this store's schema. The first call starts a goroutine that deletes expired sessions
// every DefaultSessionCleanupInterval (see WithSessionCleanupInterval), until Close. The
// dynamic type of the result is *SessionStore.
func (s *Store) SessionStore() scs.Store {
	if s.root != nil {
		return s.root.SessionStore()
	}
	// Several instances deleting from one table is harmless. Errors are not reported: the
	// next round tries again, and Find ignores expired sessions anyway. A Close during the
	// DELETE waits for it rather than cancelling it: a cancelled query may still run on
	// the server after Close returned (PostgreSQL's cancel request races the query, and
	// pgx returns without waiting), deleting rows written after Close. sessionCleanupTimeout
	// bounds the wait when the database does not answer.
	s.cleanup.Start(s.opts.cleanupInterval, func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sessionCleanupTimeout)
		defer cancel()
		_, _ = s.pool.Exec(ctx, s.q.sessionCleanup)
	})
	return &SessionStore{s: s}
}

// FindCtx returns the data of an unexpired session; found is false for an unknown or
// expired token.
func (ss *SessionStore) FindCtx(ctx context.Context, token string) (b []byte, found bool, err error) {
	err = ss.s.pool.QueryRow(ctx, ss.s.q.sessionFind, token).Scan(&b)
	if err == pgx.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: finding session: %w", err)
	}
	return b, true, nil
}

// CommitCtx stores the session's data and expiry, replacing what the token had.
func (ss *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if b == nil {
		b = []byte{} // data is NOT NULL
	}
	if _, err := ss.s.pool.Exec(ctx, ss.s.q.sessionCommit, token, b, expiry); err != nil {
		return fmt.Errorf("pgstore: committing session: %w", err)
	}
	return nil
}

// DeleteCtx removes the session; deleting an unknown token is no error.
func (ss *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := ss.s.pool.Exec(ctx, ss.s.q.sessionDelete, token); err != nil {
		return fmt.Errorf("pgstore: deleting session: %w", err)
	}
	return nil
}

// AllCtx returns the data of every unexpired session by token (an empty map if none).
func (ss *SessionStore) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := ss.s.pool.Query(ctx, ss.s.q.sessionAll)
	if err != nil {
		return nil, fmt.Errorf("pgstore: listing sessions: %w", err)
	}
	defer rows.Close()
	all := make(map[string][]byte)
	for rows.Next() {
		var (
			token string
			data  []byte
		)
		if err := rows.Scan(&token, &data); err != nil {
			return nil, fmt.Errorf("pgstore: listing sessions: %w", err)
		}
		all[token] = data
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: listing sessions: %w", err)
	}
	return all, nil
}

// Find is FindCtx without a context, for scs.Store.
func (ss *SessionStore) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context, for scs.Store.
func (ss *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete is DeleteCtx without a context, for scs.Store.
func (ss *SessionStore) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// All is AllCtx without a context, for scs.IterableStore.
func (ss *SessionStore) All() (map[string][]byte, error) {
	return ss.AllCtx(context.Background())
}
