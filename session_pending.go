package restauth

// This file keeps a login whose second factor is due (a PendingLogin) in the session, and
// names the second factors a dialect offers for it.

import (
	"context"
	"strings"
	"time"
)

// PutPendingLogin keeps p, a login whose second factor is due, in the session in ctx.
// The session id is renewed first: half a login must not ride on an id fixed before it.
// Any login of the session ends: a pending login is nobody's session yet; a session
// logged in as another user is emptied first, as LoginSession empties it.
func (s *Service) PutPendingLogin(ctx context.Context, p PendingLogin) error {
	// Emptied now if logged in as somebody else: the login this completes must not find
	// that user's data (LoginSession, which finishes it, sees no login left to compare).
	foreign := s.loggedInOtherThan(ctx, p.UserID, p.AuthHash)
	if err := s.renewSession(ctx); err != nil {
		return err
	}
	if foreign {
		if err := s.sessions.Clear(ctx); err != nil {
			return err
		}
	}
	s.sessions.Remove(ctx, sessionUserKey)
	s.sessions.Remove(ctx, sessionHashKey)
	s.sessions.Remove(ctx, sessionAuthRecordsKey)
	s.sessions.Put(ctx, sessionPendingUserKey, p.UserID)
	s.sessions.Put(ctx, sessionPendingHashKey, p.AuthHash)
	s.sessions.Put(ctx, sessionPendingExpiresKey, p.Expires.Unix())
	s.sessions.Remove(ctx, sessionPendingFirstKey)
	s.sessions.Remove(ctx, sessionPendingEmailKey)
	if p.FirstFactor != "" {
		s.sessions.Put(ctx, sessionPendingFirstKey, strings.TrimSpace(p.FirstFactor+" "+p.Provider))
	}
	if p.Email != "" {
		s.sessions.Put(ctx, sessionPendingEmailKey, p.Email)
	}
	return nil
}

// SessionPendingLogin returns the unexpired pending login of the session in ctx, if any.
func (s *Service) SessionPendingLogin(ctx context.Context) (PendingLogin, bool) {
	p := PendingLogin{
		UserID:   s.sessions.GetInt64(ctx, sessionPendingUserKey),
		AuthHash: s.sessions.GetString(ctx, sessionPendingHashKey),
		Expires:  time.Unix(s.sessions.GetInt64(ctx, sessionPendingExpiresKey), 0),
	}
	if p.UserID == 0 || p.AuthHash == "" || !s.now().Before(p.Expires) {
		return PendingLogin{}, false
	}
	p.FirstFactor, p.Provider, _ = strings.Cut(s.sessions.GetString(ctx, sessionPendingFirstKey), " ")
	p.Email = s.sessions.GetString(ctx, sessionPendingEmailKey)
	return p, true
}

// DropPendingLogin removes the pending login of the session in ctx.
func (s *Service) DropPendingLogin(ctx context.Context) {
	if s.sessions.Exists(ctx, sessionPendingUserKey) {
		s.sessions.Remove(ctx, sessionPendingUserKey)
		s.sessions.Remove(ctx, sessionPendingHashKey)
		s.sessions.Remove(ctx, sessionPendingExpiresKey)
		s.sessions.Remove(ctx, sessionPendingFirstKey)
		s.sessions.Remove(ctx, sessionPendingEmailKey)
	}
}

// PendingLoginTypes returns the second factors (allauth's authenticator types, in its
// order) the pending login's user can complete it with.
func (s *Service) PendingLoginTypes(ctx context.Context, p PendingLogin) ([]string, error) {
	u, err := s.store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return s.MFATypes(ctx, u)
}

// MFATypes returns the second factors u has, as allauth names them ("recovery_codes",
// "totp", "webauthn"), in allauth's order; none when MFA is off.
func (s *Service) MFATypes(ctx context.Context, u *User) ([]string, error) {
	if !s.cfg.MFA.Enabled {
		return nil, nil
	}
	d, enrolled, err := s.secondFactors(ctx, u.ID)
	if err != nil || !enrolled {
		return nil, err
	}
	types := []string{}
	rc, err := s.RecoveryCodesStatus(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if rc.Remaining > 0 {
		types = append(types, "recovery_codes")
	}
	if d != nil {
		types = append(types, "totp")
	}
	if n, err := s.webauthnCount(ctx, u.ID); err != nil {
		return nil, err
	} else if n > 0 {
		types = append(types, "webauthn")
	}
	return types, nil
}
