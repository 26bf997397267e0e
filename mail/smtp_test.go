package mail

import (
	"context"
	"crypto/tls"
	"mime"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/smtptest"
)

// smtpConfigFor returns an SMTPConfig that points an SMTPMailer at the started smtptest
// server s: its host and port, a TLS policy matching NoTLS/ImplicitTLS, the trusted root,
// its credentials and a short timeout. (It lives here, not in smtptest, because smtptest
// cannot import this package: these tests import smtptest.)
func smtpConfigFor(s *smtptest.Server, from string) SMTPConfig {
	host, portStr, _ := net.SplitHostPort(s.Addr())
	port, _ := strconv.Atoi(portStr)
	policy := StartTLS
	switch {
	case s.NoTLS:
		policy = NoTLS
	case s.ImplicitTLS:
		policy = ImplicitTLS
	}
	return SMTPConfig{
		Host: host, Port: port, TLS: policy, TLSConfig: s.ClientTLS(),
		Username: s.Username, Password: s.Password,
		From: from, HELO: "client.test", Timeout: 5 * time.Second,
	}
}

// testResetLink is a link shaped like the Service's password-reset links: its query has
// two parameters joined by "&", which quoted-printable and HTML escaping must preserve.
const testResetLink = "https://inventree.example.com/platform/set-password?uid=MTIz&token=c3x9qm-0f1e2d3c4b5a69788796a5b4c3d2e1f0"

var testURLPattern = regexp.MustCompile(`https://\S+`)

// testRender renders one of restauth's built-in templates the way the Service does (subject
// prefix, subject on one line, SiteName from SiteURL), so that the mailers are tested with
// the messages they will really carry.
func testRender(t testing.TB, kind restauth.MailKind, subjectPrefix, to string, data restauth.MailData) (*restauth.Message, error) {
	t.Helper()
	tmpl := restauth.DefaultMailTemplates()[kind]
	require.NotNil(t, tmpl, kind)
	if data.SiteName == "" {
		if u, err := url.Parse(data.SiteURL); err == nil && u.Host != "" {
			data.SiteName = u.Host
		}
	}
	var subject, text, html strings.Builder
	if err := tmpl.Subject.Execute(&subject, data); err != nil {
		return nil, err
	}
	if err := tmpl.Text.Execute(&text, data); err != nil {
		return nil, err
	}
	if err := tmpl.HTML.Execute(&html, data); err != nil {
		return nil, err
	}
	return &restauth.Message{
		To:      []string{to},
		Subject: strings.Join(strings.Fields(subjectPrefix+subject.String()), " "),
		Text:    text.String(),
		HTML:    html.String(),
	}, nil
}

func TestSMTPMailerDeliversPasswordReset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		srv      *smtptest.Server
		wantTLS  bool
		wantMech string
	}{
		{"starttls+plain", &smtptest.Server{Username: "mailer", Password: "s3cret-pw"}, true, "PLAIN"},
		{"starttls+login", &smtptest.Server{Username: "mailer", Password: "s3cret-pw", Mechanisms: []string{"LOGIN"}}, true, "LOGIN"},
		{"implicit tls+plain", &smtptest.Server{Username: "mailer", Password: "s3cret-pw", ImplicitTLS: true}, true, "PLAIN"},
		{"starttls without auth", &smtptest.Server{}, true, ""},
		{"no tls on loopback+plain", &smtptest.Server{Username: "mailer", Password: "s3cret-pw", NoTLS: true}, false, "PLAIN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.srv.Start(t)
			m, err := NewSMTPMailer(smtpConfigFor(tc.srv, "InvenTree <noreply@example.com>"))
			require.NoError(t, err)

			msg, err := testRender(t, restauth.MailPasswordReset, "[InvenTree] ", "alice@example.org",
				restauth.MailData{SiteURL: "https://inventree.example.com", SiteName: "InvenTree", Username: "alice", Email: "alice@example.org", Link: testResetLink})
			require.NoError(t, err)
			require.NoError(t, m.Send(context.Background(), msg))

			got := tc.srv.Messages()
			require.Len(t, got, 1)
			rcv := got[0]
			assert.Equal(t, "noreply@example.com", rcv.From)
			assert.Equal(t, []string{"alice@example.org"}, rcv.To)
			assert.Equal(t, tc.wantTLS, rcv.TLS)
			assert.Equal(t, tc.wantMech, rcv.AuthMech)

			hdr, text, html := rcv.Parts(t)
			mediaType, _, err := mime.ParseMediaType(hdr.Get("Content-Type"))
			require.NoError(t, err)
			assert.Equal(t, "multipart/alternative", mediaType)
			assert.Equal(t, "[InvenTree] Password Reset E-mail", testDecodeHeader(t, hdr.Get("Subject")))
			assert.Equal(t, `"InvenTree" <noreply@example.com>`, hdr.Get("From"))
			assert.Equal(t, "<alice@example.org>", hdr.Get("To"))
			assert.Equal(t, "auto-generated", hdr.Get("Auto-Submitted"))
			assert.True(t, strings.HasSuffix(hdr.Get("Message-Id"), "@example.com>"), hdr.Get("Message-Id"))
			_, err = hdr.Date()
			assert.NoError(t, err)

			// The link must survive quoted-printable soft line breaks and "=" escaping.
			assert.Contains(t, text, "Click the link below to reset your password.")
			link := testURLPattern.FindString(text)
			require.Equal(t, testResetLink, link)
			u, err := url.Parse(link)
			require.NoError(t, err)
			assert.Equal(t, "MTIz", u.Query().Get("uid"))
			assert.Equal(t, "c3x9qm-0f1e2d3c4b5a69788796a5b4c3d2e1f0", u.Query().Get("token"))
			assert.Contains(t, html, `href="`+htmlAttrEscape(testResetLink)+`"`)
		})
	}
}

// htmlAttrEscape is how html/template writes a URL that needs no percent-encoding into an
// attribute: only "&" changes.
func htmlAttrEscape(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }

func testDecodeHeader(t testing.TB, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	require.NoError(t, err)
	return s
}

func TestSMTPMailerErrors(t *testing.T) {
	t.Parallel()
	const password = "correct-horse-battery-staple"
	msg := &restauth.Message{To: []string{"bob@example.org"}, Subject: "s", Text: "reset " + testResetLink, HTML: "<p>x</p>"}
	from := "noreply@example.com"

	// send describes one attempt: the mailer config, the context for Send and, optionally,
	// the address to connect to regardless of cfg.Host.
	type send struct {
		cfg      SMTPConfig
		ctx      context.Context
		dialAddr string
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T) send
		wantIs   error
		wantText string
	}{
		{
			name: "wrong password",
			setup: func(t *testing.T) send {
				srv := &smtptest.Server{Username: "mailer", Password: "something-else"}
				srv.Start(t)
				cfg := smtpConfigFor(srv, from)
				cfg.Password = password
				return send{cfg: cfg, ctx: context.Background()}
			},
			wantText: "AUTH",
		},
		{
			name: "starttls required but not offered",
			setup: func(t *testing.T) send {
				srv := &smtptest.Server{NoTLS: true}
				srv.Start(t)
				cfg := smtpConfigFor(srv, from)
				cfg.TLS = StartTLS
				return send{cfg: cfg, ctx: context.Background()}
			},
			wantText: "STARTTLS",
		},
		{
			name: "untrusted certificate",
			setup: func(t *testing.T) send {
				srv := &smtptest.Server{}
				srv.Start(t)
				cfg := smtpConfigFor(srv, from)
				cfg.TLSConfig = nil // the system roots do not know the test CA
				return send{cfg: cfg, ctx: context.Background()}
			},
			wantText: "certificate",
		},
		{
			name: "no credentials in plain text when STARTTLS is missing (opportunistic)",
			setup: func(t *testing.T) send {
				// The server is local, but the client believes it talks to the remote
				// "mail.invalid", as after a STARTTLS-stripping attack.
				srv := &smtptest.Server{Username: "mailer", Password: password, NoTLS: true}
				srv.Start(t)
				cfg := smtpConfigFor(srv, from)
				cfg.TLS = StartTLSOpportunistic
				cfg.Host = "mail.invalid"
				cfg.TLSConfig = nil
				return send{cfg: cfg, ctx: context.Background(), dialAddr: srv.Addr()}
			},
			wantText: "unencrypted",
		},
		{
			name: "server down",
			setup: func(t *testing.T) send {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				port := l.Addr().(*net.TCPAddr).Port
				require.NoError(t, l.Close())
				return send{cfg: SMTPConfig{Host: "127.0.0.1", Port: port, From: from, Timeout: time.Second}, ctx: context.Background()}
			},
		},
		{
			name: "server never greets",
			setup: func(t *testing.T) send {
				port := testSilentServer(t)
				return send{cfg: SMTPConfig{Host: "127.0.0.1", Port: port, From: from, Timeout: 300 * time.Millisecond}, ctx: context.Background()}
			},
			wantIs:   context.DeadlineExceeded,
			wantText: "SMTP Timeout of 300ms exceeded",
		},
		{
			name: "context cancelled before send",
			setup: func(t *testing.T) send {
				srv := &smtptest.Server{}
				srv.Start(t)
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return send{cfg: smtpConfigFor(srv, from), ctx: ctx}
			},
			wantIs: context.Canceled,
		},
		{
			name: "context cancelled while waiting for the server",
			setup: func(t *testing.T) send {
				port := testSilentServer(t)
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				t.Cleanup(cancel)
				return send{cfg: SMTPConfig{Host: "127.0.0.1", Port: port, From: from, Timeout: time.Minute}, ctx: ctx}
			},
			wantIs: context.Canceled,
		},
		{
			name: "context deadline shorter than Timeout",
			setup: func(t *testing.T) send {
				port := testSilentServer(t)
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				t.Cleanup(cancel)
				return send{cfg: SMTPConfig{Host: "127.0.0.1", Port: port, From: from, Timeout: time.Minute}, ctx: ctx}
			},
			wantIs: context.DeadlineExceeded,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.setup(t)
			if s.cfg.Username == "" {
				// Every case carries credentials, so every error text is checked for them.
				s.cfg.Username, s.cfg.Password = "mailer", password
			}
			m, err := NewSMTPMailer(s.cfg)
			require.NoError(t, err)
			m.dialAddr = s.dialAddr

			// No timing is asserted: wantIs and wantText name the cause (the configured
			// Timeout, or the caller's context), which a send that ignored them could not
			// produce.
			err = m.Send(s.ctx, msg)

			require.Error(t, err)
			assert.NotContains(t, err.Error(), password)
			assert.NotContains(t, err.Error(), testResetLink)
			assert.Contains(t, err.Error(), "restauth: smtp")
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
			}
			if tc.wantText != "" {
				assert.Contains(t, err.Error(), tc.wantText)
			}
		})
	}
}

// testSilentServer accepts connections and never says anything, like a black-holed or
// overloaded server. It returns the port.
func testSilentServer(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestNewSMTPMailerValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cfg      SMTPConfig
		wantErr  string
		wantPort int
	}{
		{"minimal: starttls on 587", SMTPConfig{Host: "smtp.example.com", From: "a@example.com"}, "", 587},
		{"opportunistic on 587", SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: StartTLSOpportunistic}, "", 587},
		{"implicit tls on 465", SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: ImplicitTLS}, "", 465},
		{"no tls on 25", SMTPConfig{Host: "127.0.0.1", From: "a@example.com", TLS: NoTLS}, "", 25},
		{"explicit port", SMTPConfig{Host: "smtp.example.com", Port: 2525, From: "Site <a@example.com>"}, "", 2525},
		{"no tls with credentials on loopback", SMTPConfig{Host: "localhost", Port: 1025, From: "a@example.com", TLS: NoTLS, Username: "u", Password: "pw-secret"}, "", 1025},
		{"missing host", SMTPConfig{From: "a@example.com"}, "Host is required", 0},
		{"unix socket", SMTPConfig{Host: "unix:///run/smtp", From: "a@example.com"}, "not a host name", 0},
		{"missing from", SMTPConfig{Host: "smtp.example.com"}, "From is required", 0},
		{"bad from", SMTPConfig{Host: "smtp.example.com", From: "not an address"}, "not an e-mail address", 0},
		{"bad port", SMTPConfig{Host: "smtp.example.com", From: "a@example.com", Port: 70000}, "out of range", 0},
		{"bad policy", SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: 42}, "unknown SMTP TLS policy", 0},
		{"negative timeout", SMTPConfig{Host: "smtp.example.com", From: "a@example.com", Timeout: -1}, "Timeout", 0},
		{"bad helo", SMTPConfig{Host: "smtp.example.com", From: "a@example.com", HELO: "a b"}, "HELO", 0},
		{"plain-text credentials to remote host", SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: NoTLS, Username: "u", Password: "pw-secret"}, "need TLS", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewSMTPMailer(tc.cfg)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, restauth.ErrConfig)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), "pw-secret")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantPort, m.port)
			assert.Equal(t, 10*time.Second, m.timeout)
			assert.Equal(t, tc.cfg.Host, m.tlsConfig.ServerName)
			assert.Equal(t, uint16(tls.VersionTLS12), m.tlsConfig.MinVersion)
		})
	}
}

func TestSMTPConfigAndMailerDoNotPrintPassword(t *testing.T) {
	t.Parallel()
	cfg := SMTPConfig{Host: "smtp.example.com", From: "a@example.com", Username: "u", Password: "pw-secret"}
	m, err := NewSMTPMailer(cfg)
	require.NoError(t, err)
	for _, s := range []string{
		cfg.String(), cfg.GoString(), cfg.LogValue().String(),
		m.String(), m.GoString(),
	} {
		assert.NotContains(t, s, "pw-secret")
	}
	assert.Contains(t, cfg.String(), "[redacted]")
}

func TestSMTPMailerDoesNotShareTLSConfig(t *testing.T) {
	t.Parallel()
	own := &tls.Config{}
	m, err := NewSMTPMailer(SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLSConfig: own})
	require.NoError(t, err)
	assert.Empty(t, own.ServerName, "caller's config must not be modified")
	assert.NotSame(t, own, m.tlsConfig)
}

func TestTLSPolicyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy TLSPolicy
		want   string
	}{
		{StartTLS, "starttls"},
		{StartTLSOpportunistic, "starttls-opportunistic"},
		{ImplicitTLS, "implicit-tls"},
		{NoTLS, "none"},
		{TLSPolicy(42), "TLSPolicy(42)"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.policy.String())
	}
}
