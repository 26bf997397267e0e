package restauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/restauth/restauth/internal/djsign"
	"github.com/restauth/restauth/internal/validate"
)

// This file holds the operations on a user's e-mail addresses (InvenTree's views over
// allauth's EmailAddress) and on registration verification (dj-rest-auth's VerifyEmailView
// and ResendEmailVerificationView); http_291_email.go serves them. Unlike the reference,
// the operations hold these rules: a user acts only on their own addresses (another user's
// looks missing), an address is added unverified and non-primary whatever the client asks,
// an unverified address cannot displace a verified primary, and the primary cannot be
// removed while other addresses exist.

// Messages of the e-mail address operations. The first is Django's unique_together
// message; the others answer checks the reference does not make.
const (
	msgEmailNotUnique       = "The fields user, email must make a unique set."
	msgPrimaryNeedsVerified = "An unverified e-mail address cannot replace a verified primary address. Verify it first."
	msgCannotRemovePrimary  = "You cannot remove your primary e-mail address while you have other addresses. Make another address primary first."
	msgPrimaryTakenVerified = "This e-mail address is verified by another account; it cannot become your primary address."
	// msgMaxEmailAddresses is allauth's max_email_addresses message.
	msgMaxEmailAddresses = "You cannot add more than %d e-mail addresses."
)

// EmailAddresses returns the user's e-mail addresses, ordered by id.
func (s *Service) EmailAddresses(ctx context.Context, userID int64) ([]EmailAddress, error) {
	return s.store.EmailAddresses(ctx, userID)
}

// FindEmailAddress returns the user's address whose text is email (compared as the stores
// compare addresses, case-insensitively), or an error matching ErrNotFound: for a dialect
// whose routes name an address by its text, as allauth's do, before the operations above,
// which take its id.
func (s *Service) FindEmailAddress(ctx context.Context, userID int64, email string) (*EmailAddress, error) {
	addrs, err := s.store.EmailAddresses(ctx, userID)
	if err != nil {
		return nil, err
	}
	for i := range addrs {
		if equalFoldEmail(addrs[i].Email, email) {
			return &addrs[i], nil
		}
	}
	return nil, fmt.Errorf("restauth: no such e-mail address of user %d: %w", userID, ErrNotFound)
}

// newEmailField is the email field of InvenTree's EmailAddress serializer (a model
// EmailField of 254 characters).
var newEmailField = charField{Name: "email", MaxLen: maxEmailLength, Email: true}

// cleanNewEmail cleans an address a user submits for their account the way InvenTree's
// CleanMixin and the EmailAddress serializer do: HTML tags are stripped, surrounding
// space trimmed, then the address must be non-blank, at most 254 characters and valid.
// Its errors (every validator's, as DRF runs them all) are added to errs; ok tells
// whether there were none.
func cleanNewEmail(errs *ValidationError, raw string) (clean string, ok bool) {
	return newEmailField.Check(errs.drfFields(), strings.TrimSpace(validate.StripTags(raw)))
}

// AddEmailAddress adds an unverified, non-primary address to the user's account and mails
// a confirmation link for it. email is cleaned first (HTML tags stripped, trimmed) and
// must be a valid address of at most 254 characters; the same address twice for one user
// (case-insensitively) is a *ValidationError on non_field_errors.
//
// The new address never becomes primary here, even when the user has none: like allauth,
// an address becomes primary when it is verified and the user has no primary address yet
// (or when the user asks for it with SetPrimaryEmail). So User.Email never names an
// address nobody has confirmed unless the user chose it.
//
// An address someone else holds verified can still be added (refusing it would tell the
// caller that the address has an account), but no confirmation is mailed for it while
// that lasts: it could not be verified, and the mail would go to the other account's owner.
// Nor is one mailed when RateLimits.ResendPerEmail refuses another link to the address;
// the address is added all the same.
//
// A user holding Config.MaxEmailAddresses addresses (allauth's
// ACCOUNT_MAX_EMAIL_ADDRESSES) gets a *ValidationError on non_field_errors matching
// ErrTooManyEmailAddresses: every address costs a row and possibly a mail, and an
// account must not be a way to pile up either. Concurrent adds may pass the count
// together; the cap bounds growth, it is not a uniqueness rule.
func (s *Service) AddEmailAddress(ctx context.Context, userID int64, email string) (_ *EmailAddress, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "AddEmailAddress")
	defer opSpan.end(&opErr)
	var errs ValidationError
	clean, ok := cleanNewEmail(&errs, email)
	if !ok {
		return nil, &errs
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	if max := s.cfg.MaxEmailAddresses; max > 0 {
		addrs, err := s.store.EmailAddresses(ctx, userID)
		if err != nil {
			return nil, err
		}
		if len(addrs) >= max {
			return nil, causedFieldError(ErrTooManyEmailAddresses, nonFieldErrors, fmt.Sprintf(msgMaxEmailAddresses, max))
		}
	}
	addr := &EmailAddress{UserID: u.ID, Email: clean}
	if err := s.store.AddEmailAddress(ctx, addr); err != nil {
		var conflict *ConflictError
		if errors.As(err, &conflict) && conflict.Field == "user_email" {
			return nil, codedFieldError(nil, nonFieldErrors, "duplicate_email", msgEmailNotUnique)
		}
		return nil, err
	}
	// Links to one address are limited like the resend routes (RateLimits.ResendPerEmail,
	// the same key), or adding and removing it again would flood its inbox. Over the
	// limit the address is still added and the answer is the same; only the mail is
	// skipped (verify/ sends one later). The limit is applied here, not in
	// confirmUnlessTaken: the anonymous resend counts the key before calling it.
	s.audit(ctx, u, AuditEvent{Kind: AuditEmailAdded, Detail: emailDetail(addr)})
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(addr.Email)); err != nil {
		s.log.InfoContext(ctx, "restauth: no confirmation mailed for an added address: too many links to it lately", "user_id", u.ID, "email_address_id", addr.ID)
		return addr, nil
	}
	s.confirmUnlessTaken(ctx, u, addr)
	return addr, nil
}

// UserExists reports whether a user with the id exists, active or not. A dialect that lets
// the client name the owner of a new address (the 291 "user" field, which must be the
// caller) needs it to refuse an unknown id and another user's id with the reference's two
// different messages; the address is always added to the caller, whatever it answers.
func (s *Service) UserExists(ctx context.Context, id int64) (bool, error) {
	_, err := s.store.UserByID(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// ownEmailAddress returns the address id if the user holds it, else an error matching
// ErrNotFound, so that another user's address looks exactly like a missing one.
func (s *Service) ownEmailAddress(ctx context.Context, userID, id int64) (*EmailAddress, error) {
	addr, err := s.store.EmailAddressByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if addr.UserID != userID {
		return nil, fmt.Errorf("restauth: e-mail address %d of another user: %w", id, ErrNotFound)
	}
	return addr, nil
}

// SetPrimaryEmail makes one of the user's addresses primary; User.Email follows. An
// unverified address can become primary only while the current primary (if any) is
// unverified too, so a verified primary is never replaced by an address nobody confirmed.
// Another user's or an unknown id gives an error matching ErrNotFound.
//
// An address another user holds verified cannot become primary (a *ValidationError on
// non_field_errors matching ErrEmailVerifiedElsewhere): the caller's User.Email would then
// name somebody else's mailbox, where password resets by address and notices would go.
// Saying so tells the caller only about an address they typed in themselves, and
// attempts with an unverified address count towards RateLimits.PrimaryEmailPerUser
// first, so that the answer is no fast way to test a list of addresses.
//
// The MailEmailChanged notice goes to the previous primary address, and only if it was
// verified. An unverified previous primary may be someone else's (a typo at
// registration), and the notice names the account and the new address; then nobody is
// mailed. The notice is not redirected to another address: it names its recipient as the
// address that was replaced, so any other recipient would be told something untrue.
func (s *Service) SetPrimaryEmail(ctx context.Context, userID, id int64) (_ *EmailAddress, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "SetPrimaryEmail")
	defer opSpan.end(&opErr)
	addr, err := s.ownEmailAddress(ctx, userID, id)
	if err != nil || addr.Primary {
		return addr, err
	}
	addrs, err := s.store.EmailAddresses(ctx, userID)
	if err != nil {
		return nil, err
	}
	// was is the primary address before the change if it is verified, read now: after the
	// change nothing tells which address was primary.
	var was *EmailAddress
	for i := range addrs {
		if a := &addrs[i]; a.Primary && a.Verified {
			was = a
		}
	}
	if !addr.Verified && was != nil {
		return nil, codedFieldError(nil, nonFieldErrors, "unverified_primary_email", msgPrimaryNeedsVerified)
	}
	if !addr.Verified {
		// The answer tells whether another account holds the address verified: counted
		// first (RateLimits.PrimaryEmailPerUser), so no account can test a list of them.
		if err := s.throttle(ctx, s.cfg.RateLimits.PrimaryEmailPerUser, userKey(userID)); err != nil {
			return nil, err
		}
		// The caller holds the address unverified, and one user holds an address once, so
		// a verified holder is another user.
		taken, err := s.emailTakenVerified(ctx, addr.Email)
		if err != nil {
			return nil, err
		}
		if taken {
			return nil, causedFieldError(ErrEmailVerifiedElsewhere, nonFieldErrors, msgPrimaryTakenVerified)
		}
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	primary, err := s.store.SetPrimaryEmailAddress(ctx, id)
	if err != nil {
		return nil, err
	}
	if was != nil && !strings.EqualFold(was.Email, primary.Email) {
		s.notify(ctx, MailEmailChanged, u, MailData{Email: was.Email, NewEmail: primary.Email})
	}
	return primary, nil
}

// RequestVerification mails a new confirmation link for one of the user's addresses,
// unless it is verified already (or another user holds it verified). Another user's or an
// unknown id gives an error matching ErrNotFound. A failed send is logged, not returned.
// Links to one address are limited like the anonymous resend (RateLimits.ResendPerEmail):
// an account must not be a way to flood someone's inbox.
func (s *Service) RequestVerification(ctx context.Context, userID, id int64) (_ *EmailAddress, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RequestVerification")
	defer opSpan.end(&opErr)
	addr, err := s.ownEmailAddress(ctx, userID, id)
	if err != nil || addr.Verified {
		return addr, err
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(addr.Email)); err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	s.confirmUnlessTaken(ctx, u, addr)
	return addr, nil
}

// RemoveEmailAddress deletes one of the user's addresses and returns it as it was. The
// primary address cannot be removed while the user has other addresses (make another one
// primary first); the last address can, and User.Email becomes "". Another user's or an
// unknown id gives an error matching ErrNotFound.
func (s *Service) RemoveEmailAddress(ctx context.Context, userID, id int64) (_ *EmailAddress, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "RemoveEmailAddress")
	defer opSpan.end(&opErr)
	addr, err := s.ownEmailAddress(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if addr.Primary {
		addrs, err := s.store.EmailAddresses(ctx, userID)
		if err != nil {
			return nil, err
		}
		if len(addrs) > 1 {
			return nil, codedFieldError(nil, nonFieldErrors, "cannot_remove_primary_email", msgCannotRemovePrimary)
		}
	}
	if err := s.store.DeleteEmailAddress(ctx, id); err != nil {
		return nil, err
	}
	// Removing the owner's address is the first step of taking an account over; a
	// verified address belongs to the user, so telling it reveals nothing to a stranger.
	if addr.Verified {
		if u, err := s.store.UserByID(ctx, userID); err == nil {
			s.notify(ctx, MailEmailDeleted, u, MailData{Email: addr.Email})
		}
	}
	return addr, nil
}

// ConfirmationAddress returns the address a confirmation key would verify, without using
// the key: a confirmation page shows it before the user confirms (allauth's
// ConfirmEmailView on GET). It refuses exactly the keys VerifyEmail refuses — malformed,
// tampered, expired, made for another user or address text, or for an address that is
// gone or verified already (a used key) — with an error matching ErrNotFound.
func (s *Service) ConfirmationAddress(ctx context.Context, key string) (*EmailAddress, error) {
	c, err := djsign.ParseConfirmationKey(s.cfg.Secret, key, s.cfg.EmailConfirmationExpiry, s.now())
	if err != nil {
		return nil, fmt.Errorf("restauth: confirmation key refused (%w): %w", err, ErrNotFound)
	}
	id := c.AddressID
	addr, err := s.store.EmailAddressByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Matches(s.cfg.Secret, addr.UserID, addr.Email) {
		return nil, fmt.Errorf("restauth: confirmation key for e-mail address %d was made for another user or address: %w", id, ErrNotFound)
	}
	if addr.Verified {
		return nil, fmt.Errorf("restauth: e-mail address %d is verified already: %w", id, ErrNotFound)
	}
	return addr, nil
}

// VerifyEmail confirms the address a confirmation key was mailed for and makes it primary
// if its user has none, emitting AuditEmailVerified. A malformed, tampered or expired key,
// a key for an address that no longer exists, and a key for an address already verified
// (a used key) all give an error matching ErrNotFound. So does a key whose address id now
// names another user's address or another address text: the key binds the address id,
// its user and its text (a restore that rewinds ids must not let an old key verify
// somebody else's address), so keys made before that change (bare-id, allauth's) are
// refused too. If another user holds the address
// verified meanwhile, nothing changes: the address is returned unchanged with a
// *ConflictError (Field "email"), and the HTTP route still answers 200, as the reference
// does.
func (s *Service) VerifyEmail(ctx context.Context, key string) (_ *EmailAddress, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "VerifyEmail")
	defer opSpan.end(&opErr)
	addr, err := s.ConfirmationAddress(ctx, key)
	if err != nil {
		return nil, err
	}
	return s.verifyAddress(ctx, addr)
}

// verifyAddress verifies addr once a key or a code proved it, as VerifyEmail documents.
func (s *Service) verifyAddress(ctx context.Context, addr *EmailAddress) (*EmailAddress, error) {
	verified, err := s.store.VerifyEmailAddress(ctx, addr.ID, true)
	if errors.Is(err, ErrConflict) {
		s.log.InfoContext(ctx, "restauth: address not verified: another user holds it verified", "email_address_id", addr.ID)
		return addr, err
	}
	if err != nil {
		return nil, err
	}
	// The caller may be anonymous: the key is the proof. Only the id is at hand.
	s.audit(ctx, &User{ID: verified.UserID}, AuditEvent{Kind: AuditEmailVerified, Detail: emailDetail(verified)})
	return verified, nil
}

// ResendVerification mails a new confirmation link for the address to one account
// holding it unverified — the oldest, so a request mails one account however many
// registrations named the address — unless another user holds the address verified. An
// empty email sends nothing. Requests for one address are limited by
// RateLimits.ResendPerEmail, known and unknown addresses alike, so neither the result nor
// a *ThrottledError tells whether an address matched; nor does the timing, as the lookup,
// the key and the rendering run in the background after the request has queued the same
// job for every address (before answering with Config.Mail.SendInRequest). Failures are
// logged.
func (s *Service) ResendVerification(ctx context.Context, email string) (opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ResendVerification")
	defer opSpan.end(&opErr)
	if email == "" {
		return nil
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(email)); err != nil {
		return err
	}
	if !validate.Storable(email) {
		// No account holds such text (a NUL byte, invalid UTF-8), and a store that refuses
		// it (PostgreSQL) would fail the job, and retry it, for nothing.
		return nil
	}
	s.queueMail(ctx, mailIntent{job: jobResendConfirmation, email: email})
	return nil
}

// resendConfirmation is ResendVerification's job (jobResendConfirmation).
func (s *Service) resendConfirmation(ctx context.Context, email string) error {
	users, err := s.store.UsersByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("restauth: look up the accounts for a resent confirmation: %w", err)
	}
	for _, u := range users {
		addrs, err := s.store.EmailAddresses(ctx, u.ID)
		if err != nil {
			return fmt.Errorf("restauth: read the addresses for a resent confirmation: %w", err)
		}
		for i := range addrs {
			if a := &addrs[i]; !a.Verified && equalFoldEmail(a.Email, email) {
				return s.confirmNowUnlessTaken(ctx, u, a)
			}
		}
	}
	return nil
}

// confirmUnlessTaken queues a confirmation for addr unless another user holds the
// address verified: such a key could never verify it, and the mail would go to that
// other account's owner. The check, the key and the rendering run in the outbox worker
// (jobConfirmation). Nothing here reaches the caller, so it reveals nothing either.
func (s *Service) confirmUnlessTaken(ctx context.Context, u *User, addr *EmailAddress) {
	s.queueMail(ctx, confirmationIntent(u, addr, true))
}

// confirmNowUnlessTaken is confirmUnlessTaken's job, run in the calling goroutine.
func (s *Service) confirmNowUnlessTaken(ctx context.Context, u *User, addr *EmailAddress) error {
	return s.mailUnlessTaken(ctx, u, addr, func(ctx context.Context) error { return s.confirmNow(ctx, u, addr) })
}

// mailUnlessTaken runs send, which mails a confirmation (link or code) for addr, unless
// another user holds the address verified.
func (s *Service) mailUnlessTaken(ctx context.Context, u *User, addr *EmailAddress, send func(context.Context) error) error {
	taken, err := s.emailTakenVerified(ctx, addr.Email)
	switch {
	case err != nil:
		return fmt.Errorf("restauth: check an e-mail address before mailing a confirmation: %w", err)
	case taken:
		s.log.InfoContext(ctx, "restauth: no confirmation mailed for an address another user holds verified", "user_id", u.ID, "email_address_id", addr.ID)
		return nil
	}
	return send(ctx)
}

// sendConfirmation queues a confirmation link for addr and reports whether it was queued
// (sent, with Config.Mail.SendInRequest); the key is minted and the mail rendered by the
// outbox worker. Send failures are logged and retried, never returned: they must not
// change any answer.
func (s *Service) sendConfirmation(ctx context.Context, u *User, addr *EmailAddress) bool {
	return s.queueMail(ctx, confirmationIntent(u, addr, false))
}

// confirmNow mints and mails a confirmation link for addr in the calling goroutine. The
// key is an allauth-style HMAC key (Django-signed, valid Config.EmailConfirmationExpiry)
// binding the address id, its user and its text, put into Config.Links.EmailConfirm after
// SiteURL; neither it nor the link is ever logged.
func (s *Service) confirmNow(ctx context.Context, u *User, addr *EmailAddress) error {
	if s.cfg.EmailVerificationByCode.Enabled {
		// Codes replace links: the dialect asks for one (RequestEmailVerificationCode).
		return nil
	}
	s.hooks.mint(ctx)
	key := djsign.MakeConfirmationKey(s.cfg.Secret, addr.ID, u.ID, addr.Email, s.now())
	link := s.confirmLink(ctx, key)
	return s.sendNow(ctx, MailEmailConfirmation, u, MailData{Email: addr.Email, Link: link}, "email_address_id", addr.ID)
}
