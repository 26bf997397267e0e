package restauth_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// Regression tests of security review C (mail, the HTML pages, the example server, the SQL
// stores and the limiters). Each failed before its fix.

// TestAddressesWithEscapedLineBreaksAreRefused: a quoted local part may not escape a line
// break or a NUL, as Django's EmailValidator refuses them. The validator let
// `"ada\<CR>\<LF>Bcc: …"@example.com` through: registration stored it and mailed the
// confirmation to it, a recipient with a line break that any Mailer writing the To
// header itself turns into headers of the attacker's choosing (package mail's refused
// the message, so the confirmation was lost instead).
func TestAddressesWithEscapedLineBreaksAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("ada", goodPassword, "ada@example.com")
	ctx := restauth.WithClient(context.Background(), restauth.Client{Addr: "192.0.2.1"})
	for i, bad := range []string{
		"\"eve\\\r\\\nBcc: eve@evil.example\"@example.com",
		"\"eve\\\nX-Injected: 1\"@example.com",
		"\"eve\\\x00\"@example.com",
	} {
		var verr *restauth.ValidationError
		_, err := e.svc.Register(ctx, restauth.RegisterRequest{
			Username: "eve" + strconv.Itoa(i), Email: bad, Password1: goodPassword, Password2: goodPassword,
		})
		if assert.ErrorAs(t, err, &verr, "registering %q", bad) {
			assert.Contains(t, verr.Fields, "email", "registering %q", bad)
		}
		_, err = e.svc.AddEmailAddress(ctx, u.ID, bad)
		assert.ErrorAs(t, err, &verr, "adding %q", bad)
		assert.ErrorAs(t, e.svc.RequestPasswordReset(ctx, bad), &verr, "reset for %q", bad)

		res := e.do("POST", "/api/auth/registration/", map[string]string{
			"username": "mallory" + strconv.Itoa(i), "email": bad, "password1": goodPassword, "password2": goodPassword,
		})
		assert.Equal(t, 400, res.Code, "registration/ with %q: %s", bad, res.Body.String())
	}
	for _, m := range e.mailer.Messages() {
		for _, to := range m.To {
			require.False(t, strings.ContainsAny(to, "\r\n\x00"), "a mail went to %q", to)
		}
	}
}
