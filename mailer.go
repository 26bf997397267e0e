package restauth

import (
	"context"
	"errors"
	"log/slog"
)

// Message is one outgoing e-mail: a plain-text body and an HTML alternative.
type Message struct {
	// To lists the recipients, each an RFC 5322 address ("a@example.com" or
	// "Alice <a@example.com>").
	To []string
	// Subject is one header line; the mailers of package mail collapse any line breaks.
	Subject string
	// Text is the text/plain body.
	Text string
	// HTML is the text/html alternative.
	HTML string
}

// Mailer delivers messages. Send errors are logged by the Service and never change an HTTP
// response, so that a failing mail server cannot be used to learn whether an account exists.
//
// The SMTP and the directory mailer live in package github.com/restauth/restauth/mail, so
// that an application with its own mail queue (see MailerFunc) does not link an SMTP client.
type Mailer interface {
	Send(ctx context.Context, msg *Message) error
}

// MailerFunc adapts an ordinary function to the Mailer interface, e.g. to capture messages
// in a test or to hand them to an existing mail queue.
type MailerFunc func(ctx context.Context, msg *Message) error

// Send calls f(ctx, msg).
func (f MailerFunc) Send(ctx context.Context, msg *Message) error { return f(ctx, msg) }

// NewLogMailer returns a Mailer that logs a one-line summary (recipients and subject) of
// each message and never its body, which holds secrets such as reset links.
func NewLogMailer(l *slog.Logger) Mailer { return logMailer{l} }

type logMailer struct{ log *slog.Logger }

func (m logMailer) Send(ctx context.Context, msg *Message) error {
	if msg == nil {
		return errNilMessage
	}
	// Only the envelope is logged: Text and HTML carry reset links and confirmation keys.
	m.log.InfoContext(ctx, "restauth: mail not sent (log mailer)", "to", msg.To, "subject", msg.Subject)
	return nil
}

var errNilMessage = errors.New("restauth: mail: nil message")
