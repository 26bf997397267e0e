package restauth

import (
	"context"
	"log/slog"
)

// Message is one outgoing e-mail: a plain-text body and an HTML alternative.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
}

// Mailer delivers messages. Send errors are logged by the Service and never change an HTTP
// response, so that a failing mail server cannot be used to learn whether an account exists.
type Mailer interface {
	Send(ctx context.Context, msg *Message) error
}

// NewLogMailer returns a Mailer that logs a one-line summary (recipients and subject) of
// each message and never its body, which holds secrets such as reset links.
func NewLogMailer(l *slog.Logger) Mailer { return logMailer{l} }

type logMailer struct{ log *slog.Logger }

func (m logMailer) Send(ctx context.Context, msg *Message) error {
	m.log.InfoContext(ctx, "restauth: mail not sent (log mailer)", "to", msg.To, "subject", msg.Subject)
	return nil
}
