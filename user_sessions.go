package restauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/restauth/restauth/internal/drf"
)

// This file keeps the index of a user's logged-in sessions (UserSessionStore) and serves
// the session list of a user (allauth's usersessions). A session store is keyed by
// session and knows no user, so every session login writes an index record of the
// session's store key (the SHA-256 of its id, as scs keys hashed sessions), and every
// logout removes it. The index only finds sessions; whether one is alive is the session
// store's: a record whose session expired, was ended or no longer authenticates its user
// (a changed password, a deactivation) is dropped when the list is read.

// SessionInfo is one logged-in session of a user, as a session list shows it.
type SessionInfo struct {
	// ID names the session in EndSessions. It is the index record's id, opaque: never the
	// session id nor its hash.
	ID int64
	// IP and UserAgent are the client's at the login ("" when unknown).
	IP        string
	UserAgent string
	// Created is when the session logged in; LastSeen when it was last known to be used
	// (the login, as restauth does not track activity).
	Created  time.Time
	LastSeen time.Time
	// Current is set for the session of the context the list was read with.
	Current bool
}

// sessionStoreKey is the session store's key of the session id token: scs keys a hashed
// session (HashTokenInStore) by the unpadded base64url SHA-256 of its id.
func sessionStoreKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// hasSession reports whether ctx carries a loaded session. A host calling the operations
// outside a request has none, and scs panics on every call without one, so this is the one
// place that asks it (and recovers).
func (s *Service) hasSession(ctx context.Context) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = s.sessions.Status(ctx)
	return true
}

// currentSessionKey returns the store key of the session loaded into ctx, "" when the
// session has no id yet or ctx carries no session.
func (s *Service) currentSessionKey(ctx context.Context) string {
	if !s.hasSession(ctx) {
		return ""
	}
	if token := s.sessions.Token(ctx); token != "" {
		return sessionStoreKey(token)
	}
	return ""
}

// renewSession gives the session in ctx a new id (scs's RenewToken, which deletes the old
// one from the store) and drops the index record of the old id.
func (s *Service) renewSession(ctx context.Context) error {
	if err := s.unindexSession(ctx); err != nil {
		return err
	}
	return s.sessions.RenewToken(ctx)
}

// cycleSession gives the session in ctx, logged in as u, a new id while keeping its data
// and its absolute deadline (Django's cycle_key; RenewToken alone would restart the
// lifetime), and moves its record in the user's session index to the new id, keeping when
// and from where it logged in.
func (s *Service) cycleSession(ctx context.Context, u *User) error {
	old := s.currentSessionKey(ctx)
	var rec *UserSession
	if old != "" {
		recs, err := s.store.UserSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		for i := range recs {
			if recs[i].SessionHash == old {
				rec = &recs[i]
			}
		}
	}
	deadline := s.sessions.Deadline(ctx)
	if err := s.renewSession(ctx); err != nil {
		return err
	}
	s.sessions.SetDeadline(ctx, deadline)
	if rec == nil {
		return s.indexSession(ctx, u)
	}
	moved := *rec
	moved.ID, moved.SessionHash = 0, s.currentSessionKey(ctx)
	return s.store.CreateUserSession(ctx, &moved)
}

// destroySession ends the session in ctx: its index record and its stored data go, and
// a new, empty session takes its place.
func (s *Service) destroySession(ctx context.Context) error {
	if err := s.unindexSession(ctx); err != nil {
		return err
	}
	return s.sessions.Destroy(ctx)
}

// indexSession records the session in ctx, just logged in as u with a new id, in the
// user's session index.
func (s *Service) indexSession(ctx context.Context, u *User) error {
	key := s.currentSessionKey(ctx)
	if key == "" {
		return nil
	}
	now := s.now().UTC()
	rec := &UserSession{UserID: u.ID, SessionHash: key, Created: now, LastSeen: now}
	if c, ok := ClientFromContext(ctx); ok {
		rec.IP, rec.UserAgent = sessionIP(c.Addr), truncateBytes(c.UserAgent, maxUserAgentBytes)
	}
	return s.store.CreateUserSession(ctx, rec)
}

// unindexSession removes the index record of the session in ctx, if it is logged in and
// has one.
func (s *Service) unindexSession(ctx context.Context) error {
	key := s.currentSessionKey(ctx)
	uid := s.sessions.GetInt64(ctx, sessionUserKey)
	if key == "" || uid == 0 {
		return nil
	}
	if err := s.store.DeleteUserSession(ctx, uid, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// sessionIP is the address a session list shows: the client's IP address without a port,
// or its opaque identifier, bounded.
func sessionIP(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil {
		return a.Unmap().String()
	}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return truncateBytes(addr, 64)
}

// UserSessions returns the sessions the user is logged into, oldest first, with Current
// set on the session loaded into ctx (if any). Index records of sessions that no longer
// authenticate the user — expired, ended, or from before a password change or a
// deactivation — are dropped on the way. An unknown user gives an error matching
// ErrNotFound.
func (s *Service) UserSessions(ctx context.Context, userID int64) ([]SessionInfo, error) {
	live, current, err := s.liveUserSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, 0, len(live))
	for _, rec := range live {
		out = append(out, SessionInfo{ID: rec.ID, IP: rec.IP, UserAgent: rec.UserAgent,
			Created: rec.Created, LastSeen: rec.LastSeen, Current: rec.SessionHash == current})
	}
	return out, nil
}

// EndSessions ends the user's sessions of the given ids (SessionInfo.ID), on every
// instance: each is deleted from the session store and from the index. Ending the
// session loaded into ctx logs it out (LogoutSession), and loggedOut reports it. The ids
// are checked first: one that names no live session of the user (another user's, an
// ended one, an unknown one) ends nothing and gives a *ValidationError on "sessions"
// matching ErrNotFound (Django's invalid_choice message), and an empty list one that
// says the field is required.
func (s *Service) EndSessions(ctx context.Context, userID int64, ids []int64) (loggedOut bool, err error) {
	ctx, opSpan := s.startOperation(ctx, "EndSessions")
	defer opSpan.end(&err)
	if len(ids) == 0 {
		return false, fieldError("sessions", drf.MsgRequired)
	}
	live, current, err := s.liveUserSessions(ctx, userID)
	if err != nil {
		return false, err
	}
	byID := make(map[int64]UserSession, len(live))
	for _, rec := range live {
		byID[rec.ID] = rec
	}
	for _, id := range ids {
		if _, ok := byID[id]; !ok {
			return false, causedFieldError(ErrNotFound, "sessions",
				fmt.Sprintf("Select a valid choice. %d is not one of the available choices.", id))
		}
	}
	for _, id := range ids {
		rec, ok := byID[id]
		if !ok {
			continue // named twice
		}
		delete(byID, id)
		if rec.SessionHash == current {
			loggedOut = true
			continue // last: the session in ctx is destroyed through the manager
		}
		if err := s.deleteStoredSession(ctx, rec.SessionHash); err != nil {
			return false, err
		}
		if err := s.store.DeleteUserSession(ctx, userID, rec.SessionHash); err != nil && !errors.Is(err, ErrNotFound) {
			return false, err
		}
	}
	if loggedOut {
		return true, s.LogoutSession(ctx)
	}
	return false, nil
}

// liveUserSessions returns the user's index records whose sessions still authenticate
// the user, dropping the others, and the store key of the session in ctx.
func (s *Service) liveUserSessions(ctx context.Context, userID int64) ([]UserSession, string, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	recs, err := s.store.UserSessions(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	current := s.currentSessionKey(ctx)
	live := recs[:0]
	for _, rec := range recs {
		ok, err := s.sessionAuthenticates(ctx, rec.SessionHash, current, u)
		if err != nil {
			return nil, "", err
		}
		if ok {
			live = append(live, rec)
			continue
		}
		if err := s.store.DeleteUserSession(ctx, userID, rec.SessionHash); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, "", err
		}
	}
	return live, current, nil
}

// sessionAuthenticates reports whether the session of store key key would authenticate u
// (SessionUser's checks). The session in ctx (key current) is read from ctx, where a
// login of this request has put it before the store has it.
func (s *Service) sessionAuthenticates(ctx context.Context, key, current string, u *User) (bool, error) {
	if !u.IsActive {
		return false, nil
	}
	var uid any
	var hash any
	if key == current {
		uid, hash = s.sessions.GetInt64(ctx, sessionUserKey), s.sessions.GetString(ctx, sessionHashKey)
	} else {
		b, found, err := s.findStoredSession(ctx, key)
		if err != nil || !found {
			return false, err
		}
		_, values, err := s.sessions.Codec.Decode(b)
		if err != nil {
			return false, nil // not one of ours, or unreadable: it authenticates nobody
		}
		uid, hash = values[sessionUserKey], values[sessionHashKey]
	}
	id, _ := uid.(int64)
	h, _ := hash.(string)
	return id == u.ID && subtle.ConstantTimeCompare([]byte(h), []byte(s.sessionAuthHash(u))) == 1, nil
}

// findStoredSession reads the session of store key key from the session store directly:
// the manager would hash the key again.
func (s *Service) findStoredSession(ctx context.Context, key string) ([]byte, bool, error) {
	if cs, ok := s.sessions.Store.(scs.CtxStore); ok {
		return cs.FindCtx(ctx, key)
	}
	return s.sessions.Store.Find(key)
}

// deleteStoredSession deletes the session of store key key from the session store
// directly (see findStoredSession).
func (s *Service) deleteStoredSession(ctx context.Context, key string) error {
	if cs, ok := s.sessions.Store.(scs.CtxStore); ok {
		return cs.DeleteCtx(ctx, key)
	}
	return s.sessions.Store.Delete(key)
}
