package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/restauth/restauth"
)

const userSessionCols = "id, user_id, session_hash, ip, user_agent, created, last_seen"

// CreateUserSession implements restauth.UserSessionStore. An unknown UserID matches
// restauth.ErrNotFound.
func (s *Store) CreateUserSession(ctx context.Context, us *restauth.UserSession) error {
	res, err := s.w().ExecContext(ctx, `INSERT INTO user_sessions (user_id, session_hash, ip, user_agent, created, last_seen)
	VALUES (?, ?, ?, ?, ?, ?)`, us.UserID, us.SessionHash, us.IP, us.UserAgent, micros(us.Created), micros(us.LastSeen))
	if err != nil {
		return writeErr(err, "create user session", us.UserID)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlitestore: create user session: %w", err)
	}
	us.ID = id
	return nil
}

// UserSessions implements restauth.UserSessionStore.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]restauth.UserSession, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+userSessionCols+` FROM user_sessions WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	defer rows.Close()
	out := []restauth.UserSession{}
	for rows.Next() {
		var (
			us            restauth.UserSession
			created, seen sql.NullInt64
		)
		if err := rows.Scan(&us.ID, &us.UserID, &us.SessionHash, &us.IP, &us.UserAgent, &created, &seen); err != nil {
			return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
		}
		us.Created, us.LastSeen = fromMicros(created), fromMicros(seen)
		out = append(out, us)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: user sessions: %w", err)
	}
	return out, nil
}

// DeleteUserSession implements restauth.UserSessionStore.
func (s *Store) DeleteUserSession(ctx context.Context, userID int64, sessionHash string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM user_sessions WHERE user_id = ? AND session_hash = ?`, userID, sessionHash)
	return affected(res, err, "session of user", userID)
}

// DeleteUserSessions implements restauth.UserSessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, except string) (int, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM user_sessions WHERE user_id = ? AND (? = '' OR session_hash <> ?)`, userID, except, except)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete user sessions: %w", err)
	}
	return int(n), nil
}
