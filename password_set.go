package restauth

import "context"

// SessionAfterChange is what a password change or set does to the session it was made in
// (the session loaded into the operation's context by a dialect). Every other session of
// the user stops working at its next use either way (the session auth hash).
type SessionAfterChange int

const (
	// SessionUntouched leaves the session in ctx alone, for a caller without one (a
	// token-authenticated request): a session there would stop working at its next use.
	SessionUntouched SessionAfterChange = iota
	// SessionKept keeps the session in ctx logged in: its auth hash follows the new
	// password (Django's update_session_auth_hash). The 291 dialect's choice.
	SessionKept
	// SessionLoggedOut ends the session in ctx now (allauth's
	// ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE): the headless dialect's default, see
	// DialectConfig.HeadlessKeepSessionOnPasswordChange.
	SessionLoggedOut
)

// afterPasswordChange applies choice to the session in ctx after u's new password.
func (s *Service) afterPasswordChange(ctx context.Context, u *User, choice SessionAfterChange) error {
	switch choice {
	case SessionKept:
		if s.sessions.GetInt64(ctx, sessionUserKey) == u.ID {
			// A new id too, as Django's update_session_auth_hash cycles the key: a copy of
			// the cookie taken before the change (the reason many change their password)
			// must not follow the session onto the new password's hash.
			if err := s.cycleSession(ctx, u); err != nil {
				// The password is changed: a store failure here must not answer as though
				// it were not. Without its new hash the session ends at its next use, and
				// the old id with it.
				s.log.ErrorContext(ctx, "restauth: could not renew the session after a password change; it ends instead",
					"user_id", u.ID, "error", err)
				return nil
			}
			s.sessions.Put(ctx, sessionHashKey, s.sessionAuthHash(u))
		}
	case SessionLoggedOut:
		return s.sessions.Destroy(ctx)
	}
	return nil
}

// msgPasswordAlreadySet refuses SetPassword for a user who has a password.
const msgPasswordAlreadySet = "You already have a password: change it with your current one."

// SetPassword gives a user without a usable password (one who signed up through a
// provider) a password, after the confirmation and the validators (errors on
// new_password2, as ChangePassword's); no old password is asked, there is none (allauth's
// password set). A user who has a usable password is refused with a *ValidationError
// matching ErrPasswordAlreadySet: a stolen session must not replace a password without
// knowing it. Attempts count towards RateLimits.PasswordChangePerUser; a set emits
// AuditPasswordChanged ("set") and mails the MailPasswordChanged notice. ps.Old is
// ignored; ps.Session says what becomes of the session in ctx.
func (s *Service) SetPassword(ctx context.Context, u *User, ps PasswordChange) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "SetPassword")
	defer opSpan.end(&opErr)
	if err := s.throttle(ctx, s.cfg.RateLimits.PasswordChangePerUser, userKey(u.ID)); err != nil {
		return nil, err
	}
	// Read the user afresh: the caller's copy may predate a password set meanwhile.
	fresh, err := s.store.UserByID(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if fresh.HasUsablePassword() {
		return nil, causedFieldError(ErrPasswordAlreadySet, nonFieldErrors, msgPasswordAlreadySet)
	}
	updated, err := s.setPassword(ctx, fresh, ps.New1, ps.New2)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, updated, AuditEvent{Kind: AuditPasswordChanged, Detail: "set"})
	s.notify(ctx, MailPasswordChanged, updated, MailData{})
	return updated, s.afterPasswordChange(ctx, updated, ps.Session)
}
