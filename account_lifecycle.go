package restauth

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/alexedwards/scs/v2"
)

// This file holds the account lifecycle an administrator needs after a compromise:
// deactivating, deleting, and ending every credential of a user at once. Each emits its
// audit event; none mails the user (the administrator tells them, if anyone).

// DeactivateUser sets the user inactive: logins, Basic, tokens and sessions are refused
// from the next request on (every authentication checks User.IsActive), and password
// resets are not mailed. Nothing is deleted, so UpdateUser can activate them again. It
// emits AuditUserDeactivated; an unknown id gives an error matching ErrNotFound.
func (s *Service) DeactivateUser(ctx context.Context, id int64) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "DeactivateUser")
	defer opSpan.end(&opErr)
	inactive := false
	u, err := s.store.UpdateUser(ctx, id, UserUpdate{IsActive: &inactive})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditUserDeactivated})
	return u, nil
}

// DeleteUser removes the user with their addresses, tokens, social accounts and MFA
// records (Store.DeleteUser). Their sessions end at their next request, which finds no
// user. It emits AuditUserDeleted; an unknown id gives an error matching ErrNotFound.
func (s *Service) DeleteUser(ctx context.Context, id int64) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "DeleteUser")
	defer opSpan.end(&opErr)
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, u, AuditEvent{Kind: AuditUserDeleted})
	return nil
}

// RevokeAllCredentials revokes every API token of the user and ends every session they
// are logged into, on every instance; the password stays. It emits
// AuditCredentialsRevoked (Detail "tokens=<n> sessions=<n>"). The sessions of the user's
// session index (UserSessions) end first and the index is emptied; the others (logged in
// before the index existed) are found by reading the session store, which must list its
// sessions (scs.IterableStore or
// IterableCtxStore: the built-in one, sqlitestore's, pgstore's and scs's own stores do);
// with one that cannot, the tokens are revoked and an error matching
// errors.ErrUnsupported is returned. It reads every session, so it is meant for the rare
// administrative case, not for a request path.
func (s *Service) RevokeAllCredentials(ctx context.Context, id int64) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RevokeAllCredentials")
	defer opSpan.end(&opErr)
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return err
	}
	return s.revokeAllCredentials(ctx, u)
}

func (s *Service) revokeAllCredentials(ctx context.Context, u *User) error {
	tokens, err := s.store.Tokens(ctx, u.ID)
	if err != nil {
		return err
	}
	revoked := 0
	for i := range tokens {
		if !tokens[i].Revoked {
			if err := s.store.RevokeToken(ctx, tokens[i].ID); err != nil {
				return err
			}
			revoked++
		}
	}
	// The app clients' JWT refresh tokens die with the API tokens; their access tokens
	// live out their few minutes (AccessTokenLifetime).
	if err := s.store.DeleteRefreshTokens(ctx, u.ID, ""); err != nil {
		return err
	}
	ended, sessErr := s.endSessions(ctx, u.ID)
	s.audit(ctx, u, AuditEvent{Kind: AuditCredentialsRevoked, Detail: "tokens=" + strconv.Itoa(revoked) + " sessions=" + strconv.Itoa(ended)})
	return sessErr
}

// endSessions deletes the stored sessions logged in as the user and empties the user's
// session index. The sessions the index names go first, so that a session store that
// cannot list its sessions still loses those; then every stored session is read for the
// ones the index does not know (logged in before it existed). The store keys sessions by
// the hash of their id (HashTokenInStore), so they are deleted by the store's key, not
// through the manager, which would hash the key again.
func (s *Service) endSessions(ctx context.Context, userID int64) (int, error) {
	indexed, err := s.store.UserSessions(ctx, userID)
	if err != nil {
		return 0, err
	}
	ended := 0
	for _, rec := range indexed {
		_, found, err := s.findStoredSession(ctx, rec.SessionHash)
		if err == nil && found {
			err = s.deleteStoredSession(ctx, rec.SessionHash)
			ended++
		}
		if err != nil {
			return ended, err
		}
	}
	if _, err := s.store.DeleteUserSessions(ctx, userID, ""); err != nil {
		return ended, err
	}
	// The sessions ended through the index are gone from the listing: none is counted
	// twice.
	n, err := s.endListedSessions(ctx, userID)
	return ended + n, err
}

// endListedSessions deletes the stored sessions logged in as the user, found by listing
// the session store.
func (s *Service) endListedSessions(ctx context.Context, userID int64) (int, error) {
	store := s.sessions.Store
	var all map[string][]byte
	var err error
	switch st := store.(type) {
	case scs.IterableCtxStore:
		all, err = st.AllCtx(ctx)
	case scs.IterableStore:
		all, err = st.All()
	default:
		return 0, fmt.Errorf("restauth: the session store cannot list sessions to end them: %w", errors.ErrUnsupported)
	}
	if err != nil {
		return 0, err
	}
	ended := 0
	for key, b := range all {
		_, values, err := s.sessions.Codec.Decode(b)
		if err != nil {
			continue // not one of ours, or unreadable: it cannot authenticate anyone either
		}
		if uid, ok := values[sessionUserKey].(int64); !ok || uid != userID {
			continue
		}
		if err := s.deleteStoredSession(ctx, key); err != nil {
			return ended, err
		}
		ended++
	}
	return ended, nil
}
