package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

// userSessionQueries are the statements of the session index (restauth.UserSessionStore).
type userSessionQueries struct {
	create, ofUser, deleteOne, deleteAllBut string
}

const userSessionCols = "id, user_id, session_hash, ip, user_agent, created, last_seen"

func newUserSessionQueries(q func(string) string) userSessionQueries {
	return userSessionQueries{
		create: q(`INSERT INTO {s}.user_sessions (user_id, session_hash, ip, user_agent, created, last_seen)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`),
		ofUser:    q(`SELECT ` + userSessionCols + ` FROM {s}.user_sessions WHERE user_id = $1 ORDER BY id`),
		deleteOne: q(`DELETE FROM {s}.user_sessions WHERE user_id = $1 AND session_hash = $2`),
		// $2 = '' keeps none.
		deleteAllBut: q(`DELETE FROM {s}.user_sessions WHERE user_id = $1 AND ($2 = '' OR session_hash <> $2)`),
	}
}

// CreateUserSession implements restauth.UserSessionStore.
func (s *Store) CreateUserSession(ctx context.Context, us *restauth.UserSession) error {
	var id int64
	err := s.writer().QueryRow(ctx, s.q.userSessions.create, us.UserID, us.SessionHash, us.IP, us.UserAgent,
		ts(us.Created), ts(us.LastSeen)).Scan(&id)
	if err != nil {
		return storeErr(err, "session of user", us.UserID)
	}
	us.ID = id
	return nil
}

// UserSessions implements restauth.UserSessionStore.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]restauth.UserSession, error) {
	rows, err := s.reader().Query(ctx, s.q.userSessions.ofUser, userID)
	if err != nil {
		return nil, storeErr(err, "sessions of user", userID)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (restauth.UserSession, error) {
		var (
			us            restauth.UserSession
			created, seen pgtype.Timestamptz
		)
		err := r.Scan(&us.ID, &us.UserID, &us.SessionHash, &us.IP, &us.UserAgent, &created, &seen)
		us.Created, us.LastSeen = fromTS(created), fromTS(seen)
		return us, err
	})
	if err != nil {
		return nil, storeErr(err, "sessions of user", userID)
	}
	if list == nil {
		list = []restauth.UserSession{}
	}
	return list, nil
}

// DeleteUserSession implements restauth.UserSessionStore.
func (s *Store) DeleteUserSession(ctx context.Context, userID int64, sessionHash string) error {
	return s.execOne(ctx, "session of user", userID, s.q.userSessions.deleteOne, userID, sessionHash)
}

// DeleteUserSessions implements restauth.UserSessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, except string) (int, error) {
	tag, err := s.writer().Exec(ctx, s.q.userSessions.deleteAllBut, userID, except)
	if err != nil {
		return 0, storeErr(err, "sessions of user", userID)
	}
	return int(tag.RowsAffected()), nil
}
