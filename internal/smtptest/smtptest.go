// Package smtptest is an SMTP server for restauth's tests: a real server
// (github.com/emersion/go-smtp) running inside the test process on 127.0.0.1 that keeps
// every message it accepts, so that tests can read the mail the SMTP mailer actually
// delivered — the mailer's own tests in package restauth and the black-box HTTP flows in
// package restauth_test alike. Set the exported fields, then call Start; the zero value
// offers STARTTLS (with a self-signed certificate generated per server) and accepts mail
// without authentication.
//
//	srv := &smtptest.Server{Username: "mailer", Password: "secret"}
//	addr, clientTLS := srv.Start(t)
//	// … point an SMTP client at addr, trusting clientTLS, and trigger a mail …
//	msgs := srv.Messages()
//	hdr, text, html := msgs[0].Parts(t)
//
// It is test support only: its helpers take a testing.TB and fail the test on error.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/internal/testcert"
)

// Server is an SMTP server that records the messages it accepts. Configure it through
// the exported fields before calling Start; do not copy it after.
type Server struct {
	// Username and Password, when Username is set, make AUTH mandatory before MAIL FROM.
	Username, Password string
	// Mechanisms are the AUTH mechanisms offered: "PLAIN" (the default) and/or "LOGIN".
	Mechanisms []string
	// NoTLS disables STARTTLS and allows AUTH in plain text.
	NoTLS bool
	// ImplicitTLS speaks TLS from the first byte (port-465 style) instead of STARTTLS.
	ImplicitTLS bool

	addr      string
	clientTLS *tls.Config

	mu   sync.Mutex
	msgs []Message
}

// Message is one message the Server accepted.
type Message struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	Data     []byte   // the message as transferred, headers and body
	TLS      bool     // the session was encrypted
	AuthUser string   // the authenticated user, "" without AUTH
	AuthMech string   // the mechanism used, "" without AUTH
}

// Start listens on 127.0.0.1:0 and serves until the test ends. It returns the address
// ("127.0.0.1:port") and a client TLS config that trusts the server's certificate.
func (s *Server) Start(t testing.TB) (addr string, clientTLS *tls.Config) {
	t.Helper()
	cert, roots := testcert.New(t, "restauth test SMTP server")
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = s.NoTLS

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	switch {
	case s.ImplicitTLS:
		l = tls.NewListener(l, serverTLS)
	case !s.NoTLS:
		srv.TLSConfig = serverTLS
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	s.addr = l.Addr().String()
	s.clientTLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return s.addr, s.clientTLS.Clone()
}

// Addr returns the address ("127.0.0.1:port") of a started server.
func (s *Server) Addr() string { return s.addr }

// ClientTLS returns a new client TLS config that trusts the started server's certificate.
func (s *Server) ClientTLS() *tls.Config { return s.clientTLS.Clone() }

// Messages returns a copy of the messages accepted so far, oldest first. Delivery is
// synchronous: a message is stored before the server acknowledges DATA, so it is here as
// soon as the client's send has returned.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

func (s *Server) mechanisms() []string {
	if len(s.Mechanisms) == 0 {
		return []string{sasl.Plain}
	}
	return s.Mechanisms
}

type session struct {
	srv      *Server
	conn     *smtp.Conn
	authUser string
	authMech string
	from     string
	to       []string
}

func (x *session) AuthMechanisms() []string { return x.srv.mechanisms() }

func (x *session) Auth(mech string) (sasl.Server, error) {
	check := func(username, password string) error {
		if username != x.srv.Username || password != x.srv.Password {
			return smtp.ErrAuthFailed
		}
		x.authUser, x.authMech = username, mech
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, username, password string) error { return check(username, password) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.srv.Username != "" && x.authUser == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.conn.TLSConnectionState()
	x.srv.mu.Lock()
	defer x.srv.mu.Unlock()
	x.srv.msgs = append(x.srv.msgs, Message{
		From: x.from, To: slices.Clone(x.to), Data: b, TLS: isTLS,
		AuthUser: x.authUser, AuthMech: x.authMech,
	})
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// loginServer is the server side of the (obsolete but still common) LOGIN mechanism,
// which go-sasl only implements for clients.
type loginServer struct {
	check    func(username, password string) error
	username string
	step     int
}

func (l *loginServer) Next(response []byte) (challenge []byte, done bool, err error) {
	switch l.step {
	case 0:
		l.step++
		if len(response) > 0 { // initial response carries the username
			l.username = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.step++
		l.username = string(response)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.username, string(response))
	}
}

// Parts parses the message as a mail client would and returns its header and the decoded
// text/plain and text/html bodies ("" when a part is missing), with "\n" line ends. It
// fails the test unless the body is a single part or multipart/alternative.
func (m Message) Parts(t testing.TB) (hdr mail.Header, text, html string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	require.NoError(t, err)
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	store := func(ct string, body string) {
		switch ct {
		case "text/plain":
			text = body
		case "text/html":
			html = body
		default:
			t.Fatalf("unexpected part type %q", ct)
		}
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		store(mediaType, decodeBody(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body))
		return msg.Header, text, html
	}
	require.Equal(t, "multipart/alternative", mediaType)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart() // raw: decode quoted-printable explicitly below
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		ct, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		require.NoError(t, err)
		store(ct, decodeBody(t, p.Header.Get("Content-Transfer-Encoding"), p))
	}
	return msg.Header, text, html
}

func decodeBody(t testing.TB, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit":
	default:
		t.Fatalf("unexpected Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	// MIME text travels with CRLF line ends; tests compare with Go strings using "\n".
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}
