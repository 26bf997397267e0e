package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/mail"
)

var smtpPolicies = map[string]mail.TLSPolicy{
	"starttls":      mail.StartTLS,
	"opportunistic": mail.StartTLSOpportunistic,
	"tls":           mail.ImplicitTLS,
	"none":          mail.NoTLS,
}

// newMailer picks SMTP, a mail directory, or (without either) the library's log mailer,
// which logs a one-line summary and never a message body.
func newMailer(o *options, logger *slog.Logger, getenv func(string) string) (restauth.Mailer, error) {
	switch {
	case o.smtpAddr != "" && o.mailDir != "":
		return nil, fmt.Errorf("-smtp and -mail-dir exclude each other")
	case o.smtpAddr != "":
		host, portText, err := net.SplitHostPort(o.smtpAddr)
		if err != nil {
			return nil, fmt.Errorf("-smtp: %w", err)
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			return nil, fmt.Errorf("-smtp: bad port %q", portText)
		}
		policy, ok := smtpPolicies[o.smtpTLS]
		if !ok {
			return nil, fmt.Errorf("-smtp-tls: unknown policy %q", o.smtpTLS)
		}
		return mail.NewSMTPMailer(mail.SMTPConfig{
			Host: host, Port: port, TLS: policy, From: o.smtpFrom,
			Username: o.smtpUser, Password: getenv("RESTAUTH_SMTP_PASSWORD"),
		})
	case o.mailDir != "":
		return mail.NewDirMailer(o.mailDir)
	default:
		return restauth.NewLogMailer(logger), nil
	}
}
