package mail_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/mail"
)

// A directory mailer is handy during development: every reset or confirmation mail lands
// as an .eml file that any mail client opens.
func ExampleNewDirMailer() {
	dir, err := os.MkdirTemp("", "restauth-mail-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m, err := mail.NewDirMailer(dir)
	if err != nil {
		log.Fatal(err)
	}
	err = m.Send(context.Background(), &restauth.Message{
		To:      []string{"alice@example.org"},
		Subject: "[restauth] Password Reset E-mail",
		Text:    "Click the link below to reset your password.\n\nhttps://example.com/platform/set-password?uid=MQ&token=abc\n",
		HTML:    `<p>Click the link below to reset your password.</p><p><a href="https://example.com/platform/set-password?uid=MQ&amp;token=abc">Reset</a></p>`,
	})
	if err != nil {
		log.Fatal(err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(files))
	// Output: 1
}

// A typical submission-port configuration: STARTTLS is required (the default policy) and
// the credentials come from the environment, never from source code.
func ExampleNewSMTPMailer() {
	m, err := mail.NewSMTPMailer(mail.SMTPConfig{
		Host:     "smtp.example.com",
		Port:     587,
		Username: "inventree@example.com",
		Password: os.Getenv("SMTP_PASSWORD"),
		TLS:      mail.StartTLS,
		Timeout:  20 * time.Second,
		From:     "InvenTree <noreply@example.com>",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Pass m as Config.Mail.Mailer to restauth.New.
	_ = m
}

// An SMTPConfig can be logged or printed without leaking the password.
func ExampleSMTPConfig_String() {
	cfg := mail.SMTPConfig{
		Host:     "smtp.example.com",
		Username: "inventree@example.com",
		Password: "correct-horse-battery-staple",
		From:     "noreply@example.com",
	}
	fmt.Println(cfg)
	// Output: SMTPConfig{Host:smtp.example.com Port:0 Username:inventree@example.com Password:[redacted] TLS:starttls Timeout:0s From:noreply@example.com HELO:}
}
