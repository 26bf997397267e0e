package smtptest_test

import (
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/internal/smtptest"
)

const alternative = "From: a@example.com\r\n" +
	"To: b@example.org\r\n" +
	"Subject: hi\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"line one\r\n" +
	"https://example.com/?a=3D1&b=3D2\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"\r\n" +
	"<p>hi</p>\r\n" +
	"--XYZ--\r\n"

// dial connects to a started server the way its fields say it must be spoken to.
func dial(t *testing.T, s *smtptest.Server) *smtp.Client {
	t.Helper()
	addr, clientTLS := s.Start(t)
	var c *smtp.Client
	var err error
	switch {
	case s.ImplicitTLS:
		c, err = smtp.DialTLS(addr, clientTLS)
	case s.NoTLS:
		c, err = smtp.Dial(addr)
	default:
		c, err = smtp.DialStartTLS(addr, clientTLS)
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestServerRecordsMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		srv     *smtptest.Server
		auth    sasl.Client
		wantTLS bool
	}{
		{"starttls+plain", &smtptest.Server{Username: "u", Password: "pw"}, sasl.NewPlainClient("", "u", "pw"), true},
		{"implicit tls+login", &smtptest.Server{Username: "u", Password: "pw", ImplicitTLS: true, Mechanisms: []string{sasl.Login}}, sasl.NewLoginClient("u", "pw"), true},
		{"no tls, no auth", &smtptest.Server{NoTLS: true}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, tc.srv)
			if tc.auth != nil {
				require.NoError(t, c.Auth(tc.auth))
			}
			require.NoError(t, c.SendMail("a@example.com", []string{"b@example.org", "c@example.org"}, strings.NewReader(alternative)))

			msgs := tc.srv.Messages()
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, "a@example.com", m.From)
			assert.Equal(t, []string{"b@example.org", "c@example.org"}, m.To)
			assert.Equal(t, tc.wantTLS, m.TLS)
			if tc.auth != nil {
				mech, _, _ := tc.auth.Start()
				assert.Equal(t, "u", m.AuthUser)
				assert.Equal(t, mech, m.AuthMech)
			} else {
				assert.Empty(t, m.AuthUser)
				assert.Empty(t, m.AuthMech)
			}

			hdr, text, html := m.Parts(t)
			assert.Equal(t, "hi", hdr.Get("Subject"))
			assert.Equal(t, "line one\nhttps://example.com/?a=1&b=2", text)
			assert.Equal(t, "<p>hi</p>", html)
		})
	}
}

func TestServerRefusesMailWithoutValidAuth(t *testing.T) {
	t.Parallel()
	srv := &smtptest.Server{Username: "u", Password: "pw"}
	c := dial(t, srv)
	assert.Error(t, c.Auth(sasl.NewPlainClient("", "u", "wrong")))
	assert.Error(t, c.Mail("a@example.com", nil))
	assert.Empty(t, srv.Messages())
}

func TestPartsSinglePart(t *testing.T) {
	t.Parallel()
	m := smtptest.Message{Data: []byte("Subject: s\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nbody\r\n")}
	hdr, text, html := m.Parts(t)
	assert.Equal(t, "s", hdr.Get("Subject"))
	assert.Equal(t, "body\n", text)
	assert.Empty(t, html)
}
