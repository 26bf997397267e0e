package memstore

import (
	"context"
	"errors"
	"slices"

	"github.com/restauth/restauth"
)

// The session index lives in each user's record, so that it goes with the user
// (DeleteUser drops the record) and a transaction's undo restores it with the rest.

// CreateUserSession implements restauth.UserSessionStore.
func (s *Store) CreateUserSession(ctx context.Context, us *restauth.UserSession) error {
	return s.withUser(ctx, us.UserID, func(r *userRecord) error {
		s.lastUserSessionID++
		c := *us
		c.ID = s.lastUserSessionID
		r.sessions = append(r.sessions, &c)
		us.ID = c.ID
		return nil
	})
}

// UserSessions implements restauth.UserSessionStore. An unknown user has no sessions.
func (s *Store) UserSessions(ctx context.Context, userID int64) ([]restauth.UserSession, error) {
	return listOfUser(ctx, s, userID, func(r *userRecord) []*restauth.UserSession { return r.sessions }, deref)
}

// DeleteUserSession implements restauth.UserSessionStore.
func (s *Store) DeleteUserSession(ctx context.Context, userID int64, sessionHash string) error {
	return s.withUser(ctx, userID, func(r *userRecord) error {
		n := len(r.sessions)
		r.sessions = slices.DeleteFunc(r.sessions, func(us *restauth.UserSession) bool { return us.SessionHash == sessionHash })
		if len(r.sessions) == n {
			return notFound("session of user", userID)
		}
		return nil
	})
}

// DeleteUserSessions implements restauth.UserSessionStore.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, except string) (int, error) {
	removed := 0
	err := s.withUser(ctx, userID, func(r *userRecord) error {
		n := len(r.sessions)
		r.sessions = slices.DeleteFunc(r.sessions, func(us *restauth.UserSession) bool {
			return except == "" || us.SessionHash != except
		})
		removed = n - len(r.sessions)
		return nil
	})
	if err != nil && errors.Is(err, restauth.ErrNotFound) {
		return 0, nil
	}
	return removed, err
}
