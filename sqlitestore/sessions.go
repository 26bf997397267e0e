package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionStore keeps github.com/alexedwards/scs/v2 sessions in the sessions table of the
// store's database, so that several instances of an application sharing the database file
// share sessions too. It implements scs.Store, scs.CtxStore, scs.IterableStore and
// scs.IterableCtxStore. Get one with Store.SessionStore.
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

// SessionStore returns the store's scs session store, for restauth's sessions:
//
//	restauth.Config{Store: store, Sessions: restauth.SessionConfig{Store: store.SessionStore()}}
//
// restauth keys each session by the SHA-256 of its id, so the table holds no id a browser
// could send back.
//
// The first call starts a goroutine that deletes expired sessions at the interval set
// with WithSessionCleanupInterval (5 minutes by default); Close stops it.
func (s *Store) SessionStore() *SessionStore {
	if s.root != nil {
		return s.root.SessionStore()
	}
	s.cleanup.Start(s.cleanupInterval, func(ctx context.Context) {
		// A failure (say, a lock held by another process beyond the busy timeout) is
		// retried at the next tick; expired sessions are never found meanwhile. Close
		// interrupts a cleanup that is running.
		_, _ = s.DeleteExpiredSessions(ctx)
	})
	return &SessionStore{s: s}
}

// DeleteExpiredSessions deletes the sessions whose expiry has passed and reports how many
// it deleted. The cleanup goroutine calls it periodically; call it directly to clean up
// on a schedule of your own (with WithSessionCleanupInterval(0)).
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, time.Now().UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// Find implements scs.Store.
func (st *SessionStore) Find(token string) (b []byte, found bool, err error) {
	return st.FindCtx(context.Background(), token)
}

// FindCtx implements scs.CtxStore: it returns the session's data, or found false when the
// token is unknown or its session expired.
func (st *SessionStore) FindCtx(ctx context.Context, token string) (b []byte, found bool, err error) {
	err = st.s.rdb.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = ? AND expiry > ?`,
		token, time.Now().UnixMicro()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlitestore: find session: %w", err)
	}
	return b, true, nil
}

// Commit implements scs.Store.
func (st *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return st.CommitCtx(context.Background(), token, b, expiry)
}

// CommitCtx implements scs.CtxStore: it stores the session, replacing the data and expiry
// of one with the same token.
func (st *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := st.s.wdb.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
	ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, b, expiry.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlitestore: commit session: %w", err)
	}
	return nil
}

// Delete implements scs.Store.
func (st *SessionStore) Delete(token string) error {
	return st.DeleteCtx(context.Background(), token)
}

// DeleteCtx implements scs.CtxStore; deleting an unknown token is not an error.
func (st *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := st.s.wdb.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, token); err != nil {
		return fmt.Errorf("sqlitestore: delete session: %w", err)
	}
	return nil
}

// All implements scs.IterableStore.
func (st *SessionStore) All() (map[string][]byte, error) {
	return st.AllCtx(context.Background())
}

// AllCtx implements scs.IterableCtxStore: it returns the data of every unexpired session
// by token (an empty map when there is none).
func (st *SessionStore) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := st.s.rdb.QueryContext(ctx, `SELECT token, data FROM sessions WHERE expiry > ?`, time.Now().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: all sessions: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var token string
		var b []byte
		if err := rows.Scan(&token, &b); err != nil {
			return nil, fmt.Errorf("sqlitestore: all sessions: %w", err)
		}
		out[token] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: all sessions: %w", err)
	}
	return out, nil
}
