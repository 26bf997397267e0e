// Package mail delivers restauth's e-mail: NewSMTPMailer sends it to an SMTP server,
// NewDirMailer writes it as .eml files for development and tests. Both return a
// restauth.Mailer for Config.Mail.Mailer and build the same RFC 5322 message (multipart text and
// HTML, a Message-ID in the sender's domain, "Auto-Submitted: auto-generated").
//
// The package is separate from restauth so that an application that logs mail
// (restauth.NewLogMailer, the default) or hands it to its own queue (restauth.MailerFunc)
// does not link an SMTP client.
package mail
