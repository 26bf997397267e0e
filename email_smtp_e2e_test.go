package restauth_test

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/smtptest"
	"github.com/restauth/restauth/mail"
)

// TestSMTPPasswordResetEndToEnd: the Service mails through the real SMTP mailer to a real
// SMTP server; the test reads the delivered message, follows the reset link's uid and
// token to reset/confirm/, and logs in with the new password.
func TestSMTPPasswordResetEndToEnd(t *testing.T) {
	t.Parallel()
	// A real SMTP server on 127.0.0.1 that requires AUTH PLAIN (in plain text: loopback
	// only) and keeps every message it accepts.
	srv := &smtptest.Server{Username: "mailer", Password: "smtp-s3cret", NoTLS: true}
	addr, _ := srv.Start(t)
	host, portText, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	port, err := strconv.Atoi(portText)
	require.NoError(t, err)
	mailer, err := mail.NewSMTPMailer(mail.SMTPConfig{
		Host: host, Port: port, TLS: mail.NoTLS,
		Username: "mailer", Password: "smtp-s3cret",
		From: "InvenTree <noreply@example.com>", Timeout: 10 * time.Second,
	})
	require.NoError(t, err)

	e := newEnv(t, func(c *restauth.Config) {
		c.Mail.Mailer = mailer
		c.SiteURL = "https://inventree.example.com"
		c.Mail.SubjectPrefix = "[InvenTree] "
	})
	e.register("olga", goodPassword, "olga@example.com")
	require.Len(t, srv.Messages(), 1, "the registration confirmation went through SMTP too")

	res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "olga@example.com"}, withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"detail": "Password reset e-mail has been sent."}, res.JSON(t))

	msgs := srv.Messages()
	require.Len(t, msgs, 2)
	delivered := msgs[1]
	assert.Equal(t, "noreply@example.com", delivered.From)
	assert.Equal(t, []string{"olga@example.com"}, delivered.To)
	hdr, text, html := delivered.Parts(t)
	mediaType, _, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mediaType)
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
