package mail

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/restauth/restauth"
)

var errNilMessage = errors.New("restauth: mail: nil message")

// mailUserAgent is sent as User-Agent/X-Mailer instead of go-mail's default, which would
// advertise the exact library version to every recipient.
const mailUserAgent = "restauth"

// newGoMailMsg converts msg into a go-mail message. The SMTP and the directory mailer both
// use it, so that what lands in a .eml file during development is byte-for-byte the format
// a real server receives. The body is multipart/alternative (text first, HTML last, as
// RFC 2046 asks for "increasingly faithful" order) when both parts are present.
//
// Errors name the offending header but never include a body.
func newGoMailMsg(from *netmail.Address, msg *restauth.Message, now time.Time) (*gomail.Msg, error) {
	if msg == nil {
		return nil, errNilMessage
	}
	if len(msg.To) == 0 {
		return nil, errors.New("restauth: mail: no recipients")
	}
	if msg.Text == "" && msg.HTML == "" {
		return nil, errors.New("restauth: mail: empty body")
	}
	m := gomail.NewMsg()
	m.FromMailAddress(from)
	if err := m.To(msg.To...); err != nil {
		return nil, fmt.Errorf("restauth: mail: invalid recipient: %w", err)
	}
	// A subject is a single header line; newlines from a template would otherwise be folded
	// by the encoder in surprising ways.
	m.Subject(strings.Join(strings.Fields(msg.Subject), " "))
	m.SetDateWithValue(now)
	m.SetMessageIDWithValue(newMessageID(from))
	m.SetUserAgent(mailUserAgent)
	// RFC 3834: keeps vacation responders from answering reset and confirmation mails.
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	switch {
	case msg.Text != "" && msg.HTML != "":
		m.SetBodyString(gomail.TypeTextPlain, msg.Text)
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	case msg.Text != "":
		m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	default:
		m.SetBodyString(gomail.TypeTextHTML, msg.HTML)
	}
	return m, nil
}

// newMessageID returns a Message-ID in the sender's domain; go-mail's default uses the
// local hostname, which leaks internal host names and is often not a valid domain.
func newMessageID(from *netmail.Address) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 && at < len(from.Address)-1 {
		domain = from.Address[at+1:]
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:]) + "@" + domain
}
