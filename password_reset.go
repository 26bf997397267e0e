package restauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/restauth/restauth/internal/resettoken"
	"github.com/restauth/restauth/internal/validate"
)

// This file holds the password reset operations behind dj-rest-auth's PasswordResetView
// and PasswordResetConfirmView (http_291_password_reset.go), with allauth's reset form
// rules: the reset link carries the user's pk in base36 and a stateless
// PasswordResetTokenGenerator token (internal/resettoken), and is built from
// Config.SiteURL and Config.Links.PasswordReset only.

// Messages of the password reset operations, word for word as the reference sends them.
const (
	msgInvalidValue = "Invalid value" // no trailing period
	// restauth's own: the reference has no switch to turn reset off.
	msgResetDisabled = "Password reset is disabled."
)

// resetTokens returns the token generator for the configured secret and timeout.
func (s *Service) resetTokens() resettoken.Generator {
	return resettoken.Generator{Secret: s.cfg.Secret, Timeout: s.cfg.PasswordResetTimeout}
}

// resetTokenUser is what of u a reset token hashes (nil for nil, which no token matches).
func resetTokenUser(u *User) *resettoken.User {
	if u == nil {
		return nil
	}
	return &resettoken.User{ID: u.ID, PasswordHash: u.PasswordHash, LastLogin: u.LastLogin, Email: u.Email}
}

// emailList returns the addresses of the user's EmailAddress records, which allauth's
// token generator puts into the HMAC so that a token dies when an address changes.
func (s *Service) emailList(ctx context.Context, userID int64) ([]string, error) {
	addrs, err := s.store.EmailAddresses(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.Email
	}
	return out, nil
}

// RequestPasswordReset mails a password-reset link to one active user holding the
// address (as an EmailAddress or as User.Email, ignoring the case of ASCII letters only):
// the one holding it verified if there is one, else the oldest holder, so that a
// request mails one account however many hold the address (registrations naming
// someone's address must not multiply the mails). The mail goes to the address as the
// user holds it, never to the one submitted: a look-alike that a store matches by Unicode
// case folding must not receive someone else's link. email must be a valid address.
//
// The result never tells whether a mail was sent: an unknown address, an inactive user, a
// skipped mail (RateLimits.MailPerRecipient) and a failure (logged) all return nil. Nor
// does its timing: after the rate limits the request only queues a job, the same for
// every address (one outbox write), and the lookup, the token and the rendering run in the
// outbox worker
// (before answering with Config.Mail.SendInRequest).
//
// Requests count towards RateLimits.ResetPerIP (for the Client in ctx) and then, for a
// valid address, ResetPerEmail — known and unknown addresses alike, so a *ThrottledError
// reveals nothing either. With Config.DisablePasswordReset it returns a *ValidationError
// matching ErrPasswordResetDisabled.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RequestPasswordReset")
	defer opSpan.end(&opErr)
	if err := s.resetRequestAllowed(ctx, email); err != nil {
		return err
	}
	s.queueMail(ctx, mailIntent{job: jobPasswordReset, email: email})
	return nil
}

// resetRequestAllowed is the part of a reset request that answers: the switch, the rate
// limits and the address's form, the same for links and codes.
func (s *Service) resetRequestAllowed(ctx context.Context, email string) error {
	if s.cfg.DisablePasswordReset {
		return resetDisabled()
	}
	if err := s.throttleAddr(ctx, s.cfg.RateLimits.ResetPerIP); err != nil {
		return err
	}
	if !validate.Email(email) {
		return fieldError("email", msgInvalidEmail)
	}
	return s.throttle(ctx, s.cfg.RateLimits.ResetPerEmail, s.emailKey(email))
}

// mailResetLink is RequestPasswordReset's job (jobPasswordReset): it finds the account to
// mail, mints its token and mails the link. nil when there is nobody to mail; an error
// is retried by the worker: the request has been answered.
func (s *Service) mailResetLink(ctx context.Context, email string) error {
	users, err := s.usersHoldingEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("restauth: look up the accounts for a password reset: %w", err)
	}
	if len(users) == 0 {
		return nil
	}
	c := users[0] // lowest id: ordered as UsersByEmail
	s.hooks.mint(ctx)
	token := s.resetTokens().Make(resetTokenUser(c.user), c.emails, s.now())
	link := s.resetLink(ctx, c.user, token)
	return s.sendNow(ctx, MailPasswordReset, c.user, MailData{Email: c.to, Link: link})
}

// resetCandidate is a user a reset mail goes to, with the addresses its token covers.
type resetCandidate struct {
	user   *User
	emails []string
	// to is the user's own spelling of the address asked for.
	to string
}

// usersHoldingEmail is allauth's filter_users_by_email(email, is_active=True,
// prefer_verified=True).
func (s *Service) usersHoldingEmail(ctx context.Context, email string) ([]resetCandidate, error) {
	users, err := s.store.UsersByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	var all, verified []resetCandidate
	for _, u := range users {
		if !u.IsActive {
			continue
		}
		addrs, err := s.store.EmailAddresses(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		c := resetCandidate{user: u, emails: make([]string, len(addrs))}
		holdsVerified := false
		for i, a := range addrs {
			c.emails[i] = a.Email
			if equalFoldEmail(a.Email, email) {
				c.to = a.Email
				holdsVerified = holdsVerified || a.Verified
			}
		}
		if c.to == "" && equalFoldEmail(u.Email, email) {
			c.to = u.Email
		}
		if c.to == "" {
			continue // matched by the store's folding only: a look-alike
		}
		all = append(all, c)
		if holdsVerified {
			verified = append(verified, c)
		}
	}
	if len(verified) > 0 {
		return verified, nil
	}
	return all, nil
}

// resetDisabled is the refusal of both reset operations under Config.DisablePasswordReset.
func resetDisabled() error {
	return causedFieldError(ErrPasswordResetDisabled, nonFieldErrors, msgResetDisabled)
}

// PasswordResetConfirm is the second step of a password reset: the uid and token of the
// reset link, and the new password twice.
type PasswordResetConfirm struct {
	// Key, when set, is the one-part key of a headless reset link ("{uid}-{token}"),
	// standing for UID and Token.
	Key   string
	UID   string
	Token string
	New1  string
	New2  string
}

// ConfirmPasswordReset sets a new password with the uid and token of a reset link. A uid
// naming no user gives a *ValidationError {"uid": ["Invalid value"]}; a token that is
// malformed, tampered, expired, or made before the user's password, last login or
// addresses changed gives {"token": ["Invalid value"]}; then the new passwords are checked
// as in a password change (errors on new_password2). The user is not logged in; sessions
// opened before stop working because the password hash changed; API tokens stay valid
// unless Config.RevokeCredentialsOnPasswordReset is set (then RevokeAllCredentials runs).
// A reset clears the user's daily caps on failed logins and codes, emits
// AuditPasswordReset and mails the MailPasswordResetDone notice.
//
// The uid and token errors differ, as the reference's do, so the answer tells whether a
// user id exists: ids are not secret (they are sequential) and a valid token needs the
// mail anyway; see SECURITY.md.
func (s *Service) ConfirmPasswordReset(ctx context.Context, req PasswordResetConfirm) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ConfirmPasswordReset")
	defer opSpan.end(&opErr)
	if s.cfg.DisablePasswordReset {
		return nil, resetDisabled()
	}
	if req.Key != "" {
		req.UID, req.Token = splitPasswordResetKey(req.Key)
	}
	u, err := s.resetUser(ctx, req.UID)
	if err != nil {
		return nil, err
	}
	emails, err := s.emailList(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if !s.resetTokens().Check(resetTokenUser(u), emails, req.Token, s.now()) {
		return nil, fieldError("token", msgInvalidValue)
	}
	return s.resetTo(ctx, u, emails, req.New1, req.New2)
}

// resetTo sets u's new password after a reset link or code proved the address, and does
// what follows every reset: the caps cleared, the audit event, the credentials revoked
// when configured, the notice.
func (s *Service) resetTo(ctx context.Context, u *User, emails []string, new1, new2 string) (*User, error) {
	updated, err := s.setPassword(ctx, u, new1, new2)
	if err != nil {
		return nil, err
	}
	// Only the owner of the address can get here, so the caps a distributed guesser may
	// have used up to lock them out are cleared (and the guesser's password is dead).
	s.clearUserCaps(ctx, updated, emails)
	s.audit(ctx, updated, AuditEvent{Kind: AuditPasswordReset})
	if s.cfg.RevokeCredentialsOnPasswordReset {
		if err := s.revokeAllCredentials(ctx, updated); err != nil {
			s.log.ErrorContext(ctx, "restauth: could not revoke the credentials after a password reset", "user_id", updated.ID, "error", err)
		}
	}
	s.notify(ctx, MailPasswordResetDone, updated, MailData{})
	return updated, nil
}

// resetUser loads the user a reset link's uid names.
func (s *Service) resetUser(ctx context.Context, uid string) (*User, error) {
	id, err := resettoken.DecodeBase36(uid)
	if err != nil { // also more than 13 characters, as Django's base36_to_int
		return nil, fieldError("uid", msgInvalidValue)
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fieldError("uid", msgInvalidValue)
	}
	return u, err
}
