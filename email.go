package restauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth/internal/djsign"
	"github.com/restauth/restauth/internal/form"
)

// This file serves the e-mail address routes (InvenTree's views over allauth's
// EmailAddress) and the registration verification routes (dj-rest-auth's VerifyEmailView
// and ResendEmailVerificationView), with the fixes DECISIONS.md lists: the caller can only
// act on their own addresses, verified and primary cannot be set by the client, an
// unverified address cannot displace a verified primary, and the primary cannot be removed
// while other addresses exist.

// Messages of the e-mail address routes. The first is Django's unique_together message;
// the others answer checks the reference does not make.
const (
	msgEmailNotUnique       = "The fields user, email must make a unique set."
	msgEmailOtherUser       = "You can only add e-mail addresses to your own account."
	msgPrimaryNeedsVerified = "An unverified e-mail address cannot replace a verified primary address. Verify it first."
	msgCannotRemovePrimary  = "You cannot remove your primary e-mail address while you have other addresses. Make another address primary first."
)

// EmailAddresses returns the user's e-mail addresses, ordered by id.
func (s *Service) EmailAddresses(ctx context.Context, userID int64) ([]EmailAddress, error) {
	return s.store.EmailAddresses(ctx, userID)
}

// newEmailField is the email field of InvenTree's EmailAddress serializer (a model
// EmailField of 254 characters).
var newEmailField = charField{name: "email", maxLen: maxEmailLength, email: true}

// cleanNewEmail cleans an address a user submits for their account the way InvenTree's
// CleanMixin and the EmailAddress serializer do: HTML tags are stripped, surrounding
// space trimmed, then the address must be non-blank, at most 254 characters and valid.
// Its errors (every validator's, as DRF runs them all) are added to errs; ok tells
// whether there were none.
func cleanNewEmail(errs *ValidationError, raw string) (clean string, ok bool) {
	return newEmailField.check(errs, strings.TrimSpace(stripTags(raw)))
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
func (s *Service) AddEmailAddress(ctx context.Context, userID int64, email string) (*EmailAddress, error) {
	var errs ValidationError
	clean, ok := cleanNewEmail(&errs, email)
	if !ok {
		return nil, &errs
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	addr := &EmailAddress{UserID: u.ID, Email: clean}
	if err := s.store.AddEmailAddress(ctx, addr); err != nil {
		var conflict *ConflictError
		if errors.As(err, &conflict) && conflict.Field == "user_email" {
			return nil, fieldError(nonFieldErrors, msgEmailNotUnique)
		}
		return nil, err
	}
	// Links to one address are limited like the resend routes (RateLimits.ResendPerEmail,
	// the same key), or adding and removing it again would flood its inbox. Over the
	// limit the address is still added and the answer is the same; only the mail is
	// skipped (verify/ sends one later). The limit is applied here, not in
	// confirmUnlessTaken: the anonymous resend counts the key before calling it.
	s.audit(ctx, AuditEmailAdded, u, emailDetail(addr))
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(addr.Email)); err != nil {
		s.log.InfoContext(ctx, "restauth: no confirmation mailed for an added address: too many links to it lately", "user_id", u.ID, "email_address_id", addr.ID)
		return addr, nil
	}
	s.confirmUnlessTaken(ctx, u, addr)
	return addr, nil
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
// The MailEmailChanged notice goes to the previous primary address, and only if it was
// verified. An unverified previous primary may be someone else's (a typo at
// registration), and the notice names the account and the new address; then nobody is
// mailed. The notice is not redirected to another address: it names its recipient as the
// address that was replaced, so any other recipient would be told something untrue.
func (s *Service) SetPrimaryEmail(ctx context.Context, userID, id int64) (*EmailAddress, error) {
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
		return nil, fieldError(nonFieldErrors, msgPrimaryNeedsVerified)
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
func (s *Service) RequestVerification(ctx context.Context, userID, id int64) (*EmailAddress, error) {
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
func (s *Service) RemoveEmailAddress(ctx context.Context, userID, id int64) (*EmailAddress, error) {
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
			return nil, fieldError(nonFieldErrors, msgCannotRemovePrimary)
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

// VerifyEmail confirms the address a confirmation key was mailed for and makes it primary
// if its user has none, emitting AuditEmailVerified. A malformed, tampered or expired key,
// a key for an address that no longer exists, and a key for an address already verified
// (a used key) all give an error matching ErrNotFound. If another user holds the address
// verified meanwhile, nothing changes: the address is returned unchanged with a
// *ConflictError (Field "email"), and the HTTP route still answers 200, as the reference
// does.
func (s *Service) VerifyEmail(ctx context.Context, key string) (*EmailAddress, error) {
	id, err := djsign.ParseConfirmationKey(s.cfg.Secret, key, s.cfg.EmailConfirmationExpiry, s.now())
	if err != nil {
		return nil, fmt.Errorf("restauth: confirmation key refused (%w): %w", err, ErrNotFound)
	}
	addr, err := s.store.EmailAddressByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if addr.Verified {
		return nil, fmt.Errorf("restauth: e-mail address %d is verified already: %w", id, ErrNotFound)
	}
	verified, err := s.store.VerifyEmailAddress(ctx, id, true)
	if errors.Is(err, ErrConflict) {
		s.log.InfoContext(ctx, "restauth: address not verified: another user holds it verified", "email_address_id", addr.ID)
		return addr, err
	}
	if err != nil {
		return nil, err
	}
	// The caller may be anonymous: the key is the proof. Only the id is at hand.
	s.audit(ctx, AuditEmailVerified, &User{ID: verified.UserID}, emailDetail(verified))
	return verified, nil
}

// ResendVerification mails a new confirmation link for every unverified address that
// equals email case-insensitively (one per account holding it), unless another user holds
// the address verified. An empty email sends nothing. Requests for one address are
// limited by RateLimits.ResendPerEmail, known and unknown addresses alike, so neither the
// result nor a *ThrottledError tells whether an address matched; send failures are
// logged.
func (s *Service) ResendVerification(ctx context.Context, email string) error {
	if email == "" {
		return nil
	}
	if err := s.throttle(ctx, s.cfg.RateLimits.ResendPerEmail, s.emailKey(email)); err != nil {
		return err
	}
	users, err := s.store.UsersByEmail(ctx, email)
	if err != nil {
		return err
	}
	for _, u := range users {
		addrs, err := s.store.EmailAddresses(ctx, u.ID)
		if err != nil {
			return err
		}
		for i := range addrs {
			if a := &addrs[i]; !a.Verified && equalFoldEmail(a.Email, email) {
				s.confirmUnlessTaken(ctx, u, a)
			}
		}
	}
	return nil
}

// confirmUnlessTaken mails a confirmation for addr unless another user holds the address
// verified: such a key could never verify it, and the mail would go to that other
// account's owner. Nothing here reaches the caller, so it reveals nothing either.
func (s *Service) confirmUnlessTaken(ctx context.Context, u *User, addr *EmailAddress) {
	taken, err := s.emailTakenVerified(ctx, addr.Email)
	switch {
	case err != nil:
		// The address is stored; the user can ask for the mail again with verify/.
		s.log.ErrorContext(ctx, "restauth: could not check an e-mail address before mailing a confirmation", "user_id", u.ID, "email_address_id", addr.ID, "error", err)
	case taken:
		s.log.InfoContext(ctx, "restauth: no confirmation mailed for an address another user holds verified", "user_id", u.ID, "email_address_id", addr.ID)
	default:
		s.sendConfirmation(ctx, u, addr)
	}
}

// sendConfirmation mails a confirmation link for addr and reports whether it was sent.
// Send failures are logged, never returned: they must not change any answer. The key is
// allauth's HMAC key (a signed address id, valid Config.EmailConfirmationExpiry), put into
// Config.Links.EmailConfirm after SiteURL; neither it nor the link is ever logged.
func (s *Service) sendConfirmation(ctx context.Context, u *User, addr *EmailAddress) bool {
	key := djsign.MakeConfirmationKey(s.cfg.Secret, addr.ID, s.now())
	link := s.siteLink(s.cfg.Links.EmailConfirm, map[string]string{"key": key})
	return s.sendMail(ctx, MailEmailConfirmation, u, MailData{Email: addr.Email, Link: link}, "email_address_id", addr.ID)
}

// sendMail renders one kind of mail for u, addressed to data.Email (the Service fills in
// the site and the username), and hands it to deliver. It
// reports false when rendering fails; delivery failures are logged by deliver.
func (s *Service) sendMail(ctx context.Context, kind MailKind, u *User, data MailData, logArgs ...any) bool {
	args := append([]any{"kind", string(kind), "user_id", u.ID}, logArgs...)
	data.SiteURL, data.SiteName, data.Username = s.cfg.SiteURL, s.cfg.SiteName, u.Username
	msg, err := renderMail(s.mail[kind], s.cfg.Mail.SubjectPrefix, data.Email, data)
	if err != nil {
		s.log.ErrorContext(ctx, "restauth: could not render mail", append(args, "error", err)...)
		return false
	}
	return s.deliver(ctx, msg, args)
}

// maxMailsInFlight bounds concurrent background deliveries; past it a request waits for a
// slot rather than dropping the mail.
const maxMailsInFlight = 64

// mailTimeout bounds one background delivery.
const mailTimeout = 2 * time.Minute

// deliver sends msg. By default it sends in the background, so that the answer's timing
// does not depend on whether a mail was sent (which would tell who has an account) nor on
// the mail server's speed; Config.Mail.SendInRequest sends before answering instead.
// Failures are logged with args, never with the message, which holds secrets.
func (s *Service) deliver(ctx context.Context, msg *Message, args []any) bool {
	if s.cfg.Mail.SendInRequest {
		if err := s.cfg.Mail.Mailer.Send(ctx, msg); err != nil {
			s.log.ErrorContext(ctx, "restauth: could not send mail", append(args, "error", err)...)
			return false
		}
		return true
	}
	select {
	case s.mailSlots <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	s.mailWG.Add(1)
	go func() {
		defer func() { <-s.mailSlots; s.mailWG.Done() }()
		sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), mailTimeout)
		defer cancel()
		if err := s.cfg.Mail.Mailer.Send(sendCtx, msg); err != nil {
			s.log.ErrorContext(sendCtx, "restauth: could not send mail", append(args, "error", err)...)
		}
	}()
	return true
}

// Close waits until mails being sent in the background are delivered or ctx ends. Call it
// when shutting down, after the HTTP server has stopped.
func (s *Service) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.mailWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkLinkTemplate checks a Config link template: it must be a path starting with "/"
// (SiteURL is put before it) and hold each placeholder.
func checkLinkTemplate(field, tmpl string, placeholders ...string) error {
	if !strings.HasPrefix(tmpl, "/") {
		return fmt.Errorf("%w: %s must start with /", ErrConfig, field)
	}
	for _, p := range placeholders {
		if !strings.Contains(tmpl, p) {
			return fmt.Errorf("%w: %s must contain %s", ErrConfig, field, p)
		}
	}
	return nil
}

// siteLink builds an absolute link for an e-mail: Config.SiteURL followed by tmpl with
// each {name} of values replaced — escaped as a path segment before any "?" or "#", and as
// a query value after it. Links are never built from a request's Host header, which an
// attacker controls (reset poisoning).
func (s *Service) siteLink(tmpl string, values map[string]string) string {
	var b strings.Builder
	b.WriteString(s.cfg.SiteURL)
	inQuery := false
	for i := 0; i < len(tmpl); {
		c := tmpl[i]
		if c == '{' {
			if j := strings.IndexByte(tmpl[i:], '}'); j > 0 {
				if v, ok := values[tmpl[i+1:i+j]]; ok {
					if inQuery {
						b.WriteString(queryValueEscape(v))
					} else {
						b.WriteString(url.PathEscape(v))
					}
					i += j + 1
					continue
				}
			}
		}
		if c == '?' || c == '#' {
			inQuery = true
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// queryValueEscape is url.QueryEscape, except that ":" and "@" stay as they are (RFC 3986
// allows them in a query), so a confirmation key "<b64>:<ts>:<sig>" reads the same in the
// link as in the mail's text.
func queryValueEscape(v string) string {
	return strings.NewReplacer("%3A", ":", "%40", "@").Replace(url.QueryEscape(v))
}

// emailAddressJSON is InvenTree's EmailAddressSerializer output; ID is null in the answer
// of remove/.
type emailAddressJSON struct {
	ID       *int64 `json:"id"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
	Primary  bool   `json:"primary"`
	User     int64  `json:"user"`
}

func emailAddressOut(a *EmailAddress) emailAddressJSON {
	id := a.ID
	return emailAddressJSON{ID: &id, Email: a.Email, Verified: a.Verified, Primary: a.Primary, User: a.UserID}
}

func (s *Service) handleEmails(w http.ResponseWriter, r *http.Request) error {
	c := callOf(r)
	if r.Method == http.MethodPost {
		return s.handleAddEmail(w, r)
	}
	addrs, err := s.EmailAddresses(r.Context(), c.auth.user.ID)
	if err != nil {
		return err
	}
	out := make([]emailAddressJSON, len(addrs))
	for i := range addrs {
		out[i] = emailAddressOut(&addrs[i])
	}
	writeList(w, r, out)
	return nil
}

// handleAddEmail serves POST emails/. verified and primary in the body are ignored
// (read-only); user may be omitted and otherwise must be the caller.
func (s *Service) handleAddEmail(w http.ResponseWriter, r *http.Request) error {
	c := callOf(r)
	f, err := s.decodeBody(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	caller := c.auth.user
	var errs ValidationError
	// Tags are stripped before the field checks (InvenTree's CleanMixin cleans the data
	// before the serializer sees it), so "<b></b>" is blank.
	email, present := f.char(&errs, charField{name: "email", required: true, allowBlank: true})
	if present && errs.Fields["email"] == nil {
		cleanNewEmail(&errs, email)
	}
	if err := s.checkOwnUserField(ctx, f, caller, &errs); err != nil {
		return err
	}
	if err := errs.orNil(); err != nil {
		return err
	}
	addr, err := s.AddEmailAddress(ctx, caller.ID, email)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, emailAddressOut(addr))
	return nil
}

// checkOwnUserField reads the optional "user" field of POST emails/ as DRF's
// PrimaryKeyRelatedField does (same messages for a wrong type, null and an unknown pk)
// and, unlike the reference, accepts only the caller's own pk.
func (s *Service) checkOwnUserField(ctx context.Context, f *formData, caller *User, errs *ValidationError) error {
	const field = "user"
	value, present, bad := f.raw(field)
	if !present {
		return nil
	}
	kind := "str"
	if f.json != nil {
		raw := bytes.TrimSpace(f.json[field])
		kind = form.JSONKind(raw)
		if len(raw) > 0 && raw[0] == '{' {
			kind = "dict"
		}
	}
	switch {
	case bad == msgNull || (bad == "" && kind == "str" && value == ""):
		// DRF's RelatedField turns "" into None before the null check.
		errs.add(field, msgNull)
		return nil
	case bad != "" || (kind != "str" && kind != "int"):
		errs.add(field, "Incorrect type. Expected pk value, received "+kind+".")
		return nil
	}
	pk, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		errs.add(field, "Incorrect type. Expected pk value, received "+kind+".")
		return nil
	}
	if pk == caller.ID {
		return nil
	}
	_, err = s.store.UserByID(ctx, pk)
	switch {
	case errors.Is(err, ErrNotFound):
		errs.add(field, `Invalid pk "`+value+`" - object does not exist.`)
	case err != nil:
		return err
	default:
		errs.add(field, msgEmailOtherUser)
	}
	return nil
}

// handleEmailAction serves POST emails/{id}/primary|verify|remove/; the body is ignored.
func (s *Service) handleEmailAction(action func(ctx context.Context, userID, id int64) (*EmailAddress, error), removed bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		addr, err := action(r.Context(), caller(r).ID, pathID(r))
		if err != nil {
			return err
		}
		out := emailAddressOut(addr)
		if removed {
			out.ID = nil // Django clears the pk of a deleted instance.
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *Service) handleVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	f, err := s.decodeBody(w, r)
	if err != nil {
		return err
	}
	var errs ValidationError
	key, _ := f.char(&errs, charField{name: "key", required: true})
	if err := errs.orNil(); err != nil {
		return err
	}
	// A conflict (another user holds the address verified) answers "ok" and leaves the
	// address unverified, as the reference does.
	if _, err := s.VerifyEmail(r.Context(), key); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	writeDetail(w, http.StatusOK, "ok")
	return nil
}

func (s *Service) handleResendEmail(w http.ResponseWriter, r *http.Request) error {
	f, err := s.decodeBody(w, r)
	if err != nil {
		return err
	}
	var errs ValidationError
	email, _ := f.char(&errs, charField{name: "email", email: true})
	if err := errs.orNil(); err != nil {
		return err
	}
	if err := s.ResendVerification(r.Context(), email); err != nil {
		return err
	}
	writeDetail(w, http.StatusOK, "ok")
	return nil
}
