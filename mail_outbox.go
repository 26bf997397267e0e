package restauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/restauth/restauth/internal/seal"
)

// This file puts mail into the outbox (OutboxStore) and turns an outbox row back into
// work for the worker (mail_worker.go).
//
// What a row holds, and why no live secret: the mails that carry a link the Service can
// make again — a password reset, a magic link, an e-mail confirmation — are stored as
// their intent (the job, the user or address asked for, an address id) and the worker
// finds the account, mints the token and renders the mail when it sends. That keeps the
// lookup out of the request (a reset for an unknown address does the same work as one for
// a known address: one outbox write), keeps reset and magic-link tokens bound to the
// account's state at send time (a mail retried an hour later does not carry a stale or
// expired link), and leaves nothing in the table that opens an account. Every other mail
// (the notices, "account already exists", and any mail a caller hands sendMail, which may
// carry a secret the Service cannot mint again, such as a login code kept only hashed) is
// stored as its MailData sealed under Config.Secret (AES-256-GCM, bound to the row's
// random key), so a copy of the table without the Secret shows only the kind, the user id
// and the recipient address.

// mailJob names the work an outbox row asks for (OutboxMail.Kind).
type mailJob string

const (
	// jobPasswordReset: a reset link for the account holding Email (mailResetLink).
	jobPasswordReset mailJob = "password_reset_request"
	// jobMagicLink: a magic login link for the account holding Email (mailMagicLink).
	jobMagicLink mailJob = "magic_link_request"
	// jobResendConfirmation: a new confirmation for an account holding Email unverified.
	jobResendConfirmation mailJob = "resend_confirmation_request"
	// jobConfirmation: a confirmation for the address AddressID of UserID.
	jobConfirmation mailJob = "email_confirmation"
	// jobMail: a mail of Kind whose MailData is sealed in the payload.
	jobMail mailJob = "mail"
	// jobMailedCode: a mailed code of Kind (login, password reset, e-mail verification),
	// the code sealed in the payload like jobMail's data: for the account holding Email,
	// or, with AddressID, for that address of UserID unless another user holds it
	// verified (mailCodeNow).
	jobMailedCode mailJob = "mailed_code"
)

// mailIntent is what an outbox row asks for: the job, the user and address (the row's
// columns) and the payload's fields.
type mailIntent struct {
	job    mailJob
	userID int64
	email  string

	// AddressID and UnlessTaken are jobConfirmation's: the address to confirm, and
	// whether to skip it when another user holds the address verified.
	AddressID   int64 `json:"address_id,omitempty"`
	UnlessTaken bool  `json:"unless_taken,omitempty"`
	// Dialect is the dialect that caused the mail (DialectFromContext), whose links the
	// worker builds; empty for the 291 dialect.
	Dialect Dialect `json:"dialect,omitempty"`
	// Kind and Sealed are jobMail's: the mail, and its sealedMail under Secret.
	Kind   MailKind `json:"kind,omitempty"`
	Sealed []byte   `json:"sealed,omitempty"`

	// data is jobMail's MailData before sealing (enqueue) or after opening (worker).
	data    MailData
	logArgs []string
}

// sealedMail is what jobMail seals: the template data and the caller's log fields.
type sealedMail struct {
	Data    MailData `json:"data"`
	LogArgs []string `json:"log_args,omitempty"`
}

// outboxPurpose derives the key sealing jobMail payloads from Config.Secret.
const outboxPurpose = "restauth.mail-outbox"

// errPermanent marks a job that cannot succeed however often it is tried (a payload that
// does not parse, a template that does not render): the worker gives it up at once.
var errPermanent = errors.New("restauth: mail cannot be sent")

// newOutboxMail turns in into a row with a new random key, due now.
func (s *Service) newOutboxMail(ctx context.Context, in mailIntent) (*OutboxMail, error) {
	if d := DialectFromContext(ctx); d != Dialect291 {
		in.Dialect = d
	}
	var key [16]byte
	rand.Read(key[:])
	m := &OutboxMail{Key: hex.EncodeToString(key[:]), Kind: string(in.job), UserID: in.userID, Email: in.email}
	m.Created = s.now().UTC()
	m.Due = m.Created
	if in.job == jobMail || in.job == jobMailedCode {
		plain, err := json.Marshal(sealedMail{Data: in.data, LogArgs: in.logArgs})
		if err != nil {
			return nil, err
		}
		in.Sealed = seal.Seal(seal.AEAD(s.cfg.Secret, outboxPurpose), plain, []byte(m.Key))
	}
	payload, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	m.Payload = payload
	return m, nil
}

// intentOf reverses newOutboxMail; an error wraps errPermanent, except for a sealed payload
// under another Secret.
func (s *Service) intentOf(m *OutboxMail) (mailIntent, error) {
	in := mailIntent{job: mailJob(m.Kind), userID: m.UserID, email: m.Email}
	if len(m.Payload) > 0 {
		if err := json.Unmarshal(m.Payload, &in); err != nil {
			return in, fmt.Errorf("%w: payload: %v", errPermanent, err)
		}
	}
	if in.job == jobMail || in.job == jobMailedCode {
		plain, err := seal.Open(seal.AEAD(s.cfg.Secret, outboxPurpose), in.Sealed, []byte(m.Key))
		if err != nil {
			// Not permanent: while Config.Secret is rotated, instances under the old and the
			// new Secret share the outbox, and one of them can open it. Retried with the
			// usual delays, it is given up after MaxAttempts like any failing mail.
			return in, errors.New("restauth: sealed mail payload does not open under this Secret; left for an instance that holds the one it was sealed with")
		}
		var sm sealedMail
		if err := json.Unmarshal(plain, &sm); err != nil {
			return in, fmt.Errorf("%w: sealed payload: %v", errPermanent, err)
		}
		in.data, in.logArgs = sm.Data, sm.LogArgs
	}
	return in, nil
}

// enqueueAttempts is how often queueMail tries to write a row: the key makes a retry of
// a write whose outcome is unknown (a timeout at commit) harmless.
const enqueueAttempts = 3

// queueMail puts in into the outbox after the state that caused it was stored (outside
// any transaction of it) and wakes the worker. The write does not end with the request:
// it runs under the request's values but not its cancellation, bounded by
// Config.StoreTimeout, and is retried with the same key. When it cannot be written at all
// the mail is lost — logged and audited (AuditMailGivenUp), never silently. With
// Config.Mail.SendInRequest the work runs now instead, and the result says whether it
// succeeded; otherwise whether the mail is in the outbox.
func (s *Service) queueMail(ctx context.Context, in mailIntent) bool {
	if s.cfg.Mail.SendInRequest {
		if err := s.runIntent(ctx, in); err != nil {
			// Never the message: it holds secrets.
			s.log.ErrorContext(ctx, "restauth: could not send mail", "kind", string(in.job), "user_id", in.userID, "error", err)
			return false
		}
		return true
	}
	m, err := s.newOutboxMail(ctx, in)
	if err == nil {
		wctx, cancel := s.outboxWriteContext(ctx)
		defer cancel()
		for range enqueueAttempts {
			if err = s.store.EnqueueMail(wctx, m); err == nil || wctx.Err() != nil {
				break
			}
		}
	}
	if err != nil {
		if m == nil {
			m = &OutboxMail{Kind: string(in.job), UserID: in.userID}
		}
		s.mailLost(ctx, m, "outbox_write_failed", err)
		return false
	}
	s.outbox.wake(s)
	return true
}

// queueMailIn puts in into the outbox through st, a transaction's view of the store, so
// that the mail is stored with the state that caused it or not at all; the caller wakes
// the worker (s.outbox.wake) once the transaction committed. Under
// Config.Mail.SendInRequest callers send after the commit (queueMail) instead.
func (s *Service) queueMailIn(ctx context.Context, st Store, in mailIntent) error {
	m, err := s.newOutboxMail(ctx, in)
	if err != nil {
		return err
	}
	return st.EnqueueMail(ctx, m)
}

// runIntent does the work of an outbox row: the lookups, the token, the rendering and
// the sending. nil means done (sent, or nothing to send: an unknown address, a skipped
// mail); an error, that it may succeed later, unless it wraps errPermanent.
func (s *Service) runIntent(ctx context.Context, in mailIntent) error {
	if in.Dialect != "" {
		ctx = WithDialect(ctx, in.Dialect)
	}
	switch in.job {
	case jobPasswordReset:
		return s.mailResetLink(ctx, in.email)
	case jobMagicLink:
		return s.mailMagicLink(ctx, in.email)
	case jobResendConfirmation:
		return s.resendConfirmation(ctx, in.email)
	case jobConfirmation:
		return s.confirmAddress(ctx, in)
	case jobMailedCode:
		return s.mailCodeNow(ctx, in)
	case jobMail:
		args := make([]any, len(in.logArgs))
		for i, a := range in.logArgs {
			args[i] = a
		}
		return s.sendNow(ctx, in.Kind, &User{ID: in.userID, Username: in.data.Username}, in.data, args...)
	}
	return fmt.Errorf("%w: unknown outbox job %q", errPermanent, in.job)
}

// confirmAddress is jobConfirmation: it mails a confirmation for the address if the user
// still holds it (with the same text); a removed address has nothing to confirm. An
// address verified meanwhile still gets its mail, as when it was sent at once: the key
// it carries is refused, and the mail tells the user nothing new.
func (s *Service) confirmAddress(ctx context.Context, in mailIntent) error {
	u, addr, err := s.intentAddress(ctx, in)
	if u == nil || err != nil {
		return err
	}
	if in.UnlessTaken {
		return s.confirmNowUnlessTaken(ctx, u, addr)
	}
	return s.confirmNow(ctx, u, addr)
}

// intentAddress returns the user in.userID and their address in.AddressID if the user
// still holds it with the same text; nil, nil, nil when there is nothing to mail (a
// removed address or user).
func (s *Service) intentAddress(ctx context.Context, in mailIntent) (*User, *EmailAddress, error) {
	addr, err := s.store.EmailAddressByID(ctx, in.AddressID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if addr.UserID != in.userID || addr.Email != in.email {
		return nil, nil, nil
	}
	u, err := s.store.UserByID(ctx, in.userID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return u, addr, nil
}

// confirmationIntent is the outbox row confirming addr of u.
func confirmationIntent(u *User, addr *EmailAddress, unlessTaken bool) mailIntent {
	return mailIntent{job: jobConfirmation, userID: u.ID, email: addr.Email, AddressID: addr.ID, UnlessTaken: unlessTaken}
}
