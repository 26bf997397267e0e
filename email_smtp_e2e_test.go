package restauth_test

import (
	"bytes"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// e2eSMTPServer is a real SMTP server (github.com/emersion/go-smtp) on 127.0.0.1 that
// requires AUTH PLAIN and keeps every message it accepts. (The package's own
// testSMTPServer lives in package restauth, which cannot import memstore, so this
// black-box test has its own, smaller one.)
type e2eSMTPServer struct {
	user, password string
	addr           string

	mu   sync.Mutex
	msgs []e2eSMTPMessage
}

type e2eSMTPMessage struct {
	from string
	to   []string
	data []byte
}

func startE2ESMTPServer(t *testing.T, user, password string) *e2eSMTPServer {
	t.Helper()
	s := &e2eSMTPServer{user: user, password: password}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &e2eSMTPSession{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.AllowInsecureAuth = true // loopback only
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.addr = l.Addr().String()
	return s
}

func (s *e2eSMTPServer) messages() []e2eSMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]e2eSMTPMessage(nil), s.msgs...)
}

type e2eSMTPSession struct {
	srv    *e2eSMTPServer
	authed bool
	from   string
	to     []string
}

func (x *e2eSMTPSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *e2eSMTPSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != x.srv.user || password != x.srv.password {
			return smtp.ErrAuthFailed
		}
		x.authed = true
		return nil
	}), nil
}

func (x *e2eSMTPSession) Mail(from string, _ *smtp.MailOptions) error {
	if !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *e2eSMTPSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *e2eSMTPSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	x.srv.msgs = append(x.srv.msgs, e2eSMTPMessage{from: x.from, to: append([]string(nil), x.to...), data: b})
	return nil
}

func (x *e2eSMTPSession) Reset()        { x.from, x.to = "", nil }
func (x *e2eSMTPSession) Logout() error { return nil }

// bodies parses a delivered message as a mail client would: its header and its decoded
// text/plain and text/html parts.
func (m e2eSMTPMessage) bodies(t *testing.T) (hdr mail.Header, text, html string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	require.NoError(t, err)
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		require.NoError(t, err)
		switch ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	return msg.Header, text, html
}

// TestSMTPPasswordResetEndToEnd: the Service mails through the real SMTP mailer to a real
// SMTP server; the test reads the delivered message, follows the reset link's uid and
// token to reset/confirm/, and logs in with the new password.
func TestSMTPPasswordResetEndToEnd(t *testing.T) {
	t.Parallel()
	srv := startE2ESMTPServer(t, "mailer", "smtp-s3cret")
	host, portText, err := net.SplitHostPort(srv.addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	mailer, err := restauth.NewSMTPMailer(restauth.SMTPConfig{
		Host: host, Port: port, TLS: restauth.SMTPNoTLS,
		Username: "mailer", Password: "smtp-s3cret",
		From: "InvenTree <noreply@example.com>", Timeout: 10 * time.Second,
	})
	require.NoError(t, err)

	e := newEnv(t, func(c *restauth.Config) {
		c.Mailer = mailer
		c.SiteURL = "https://inventree.example.com"
		c.MailSubjectPrefix = "[InvenTree] "
	})
	e.register("olga", goodPassword, "olga@example.com")
	require.Len(t, srv.messages(), 1, "the registration confirmation went through SMTP too")

	res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "olga@example.com"}, withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"detail": "Password reset e-mail has been sent."}, res.JSON(t))

	msgs := srv.messages()
	require.Len(t, msgs, 2)
	delivered := msgs[1]
	assert.Equal(t, "noreply@example.com", delivered.from)
	assert.Equal(t, []string{"olga@example.com"}, delivered.to)
	hdr, text, html := delivered.bodies(t)
	subject, err := new(mime.WordDecoder).DecodeHeader(hdr.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "[InvenTree] Password Reset E-mail", subject)

	link := regexp.MustCompile(`https://inventree\.example\.com/platform/set-password\?\S+`).FindString(text)
	require.NotEmpty(t, link, text)
	assert.Contains(t, html, strings.ReplaceAll(strings.TrimSpace(link), "&", "&amp;"))
	u, err := url.Parse(strings.TrimSpace(link))
	require.NoError(t, err)
	uid, token := u.Query().Get("uid"), u.Query().Get("token")
	require.NotEmpty(t, uid)
	require.NotEmpty(t, token)

	res = e.do(http.MethodPost, "/api/auth/password/reset/confirm/",
		map[string]any{"uid": uid, "token": token, "new_password1": newPassword, "new_password2": newPassword},
		withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())

	assert.Equal(t, http.StatusOK, e.loginStatus("olga", newPassword))
	assert.Equal(t, http.StatusBadRequest, e.loginStatus("olga", goodPassword))
}
