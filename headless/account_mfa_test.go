package headless_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/internal/otptest"
)

func TestAccountAuthenticators(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) { c.MFA.Enabled = true }, tc.opts)
			f.register(t, "")
			c := tc.client(f, t)
			assert.Equal(t, 401, c.do(http.MethodGet, "account/authenticators", nil).code)
			c.login(t)

			r := c.do(http.MethodGet, "account/authenticators", nil)
			require.Equal(t, 200, r.code)
			assert.JSONEq(t, `[]`, string(r.Data))
			r = c.do(http.MethodGet, "account/authenticators/totp", nil)
			require.Equal(t, 404, r.code)
			url, _ := r.Meta["totp_url"].(string)
			require.NotEmpty(t, r.Meta["secret"])
			app, err := otptest.Scan(url)
			require.NoError(t, err)
			assert.Equal(t, 404, c.do(http.MethodGet, "account/authenticators/recovery-codes", nil).code)

			r = c.do(http.MethodPost, "account/authenticators/totp", map[string]string{"code": "000000"})
			require.Equal(t, 400, r.code)
			code, param := r.firstError(t)
			assert.Equal(t, "incorrect_code", code)
			assert.Equal(t, "code", param)

			f.advance(10 * time.Minute) // the login is no longer recent
			r = c.do(http.MethodPost, "account/authenticators/totp", map[string]string{"code": app.Code(f.clock())})
			require.Equal(t, 401, r.code, "reauthentication required")
			assert.Contains(t, r.flows(t), "reauthenticate")
			assert.Equal(t, true, r.Meta["is_authenticated"])
			require.Equal(t, 200, c.do(http.MethodPost, "auth/reauthenticate", map[string]string{"password": adaPassword}).code)

			r = c.do(http.MethodPost, "account/authenticators/totp", map[string]string{"code": app.Code(f.clock())})
			require.Equal(t, 200, r.code)
			assert.Equal(t, true, r.Meta["recovery_codes_generated"])
			assert.Equal(t, 200, c.do(http.MethodGet, "account/authenticators/totp", nil).code)
			r = c.do(http.MethodGet, "account/authenticators", nil)
			require.Equal(t, 200, r.code)
			var list []map[string]any
			require.NoError(t, json.Unmarshal(r.Data, &list))
			require.Len(t, list, 2)
			assert.Equal(t, "totp", list[0]["type"])
			assert.Equal(t, "recovery_codes", list[1]["type"])
			assert.EqualValues(t, 10, list[1]["unused_code_count"])

			r = c.do(http.MethodGet, "account/authenticators/recovery-codes", nil)
			require.Equal(t, 200, r.code)
			assert.Contains(t, string(r.Data), `"total_code_count":10`)
			r = c.do(http.MethodPost, "account/authenticators/recovery-codes", nil)
			require.Equal(t, 200, r.code)
			var rc struct {
				UnusedCodes []string `json:"unused_codes"`
			}
			require.NoError(t, json.Unmarshal(r.Data, &rc))
			assert.Len(t, rc.UnusedCodes, 10, "the new codes, shown once")

			f.advance(10 * time.Minute)
			r = c.do(http.MethodDelete, "account/authenticators/totp", nil)
			require.Equal(t, 401, r.code, "reauthentication required")
			flows := r.flows(t)
			assert.Contains(t, flows, "reauthenticate")
			assert.Contains(t, flows, "mfa_reauthenticate")
			assert.Equal(t, 401, c.do(http.MethodPost, "account/authenticators/recovery-codes", nil).code)
			assert.Equal(t, 401, c.do(http.MethodGet, "account/authenticators/recovery-codes", nil).code)
			ok, err := f.svc.MFATypes(context.Background(), &restauth.User{ID: 1})
			require.NoError(t, err)
			assert.Contains(t, ok, "totp", "still active")

			require.Equal(t, 200, c.do(http.MethodPost, "auth/2fa/reauthenticate", map[string]string{"code": rc.UnusedCodes[0]}).code)
			assert.Equal(t, 200, c.do(http.MethodDelete, "account/authenticators/totp", nil).code)
			assert.Equal(t, 404, c.do(http.MethodGet, "account/authenticators/totp", nil).code)
			assert.Equal(t, 200, c.do(http.MethodDelete, "account/authenticators/totp", nil).code, "nothing to deactivate")
			r = c.do(http.MethodPost, "account/authenticators/recovery-codes", nil)
			require.Equal(t, 400, r.code)
			code, _ = r.firstError(t)
			assert.Equal(t, "cannot_generate_recovery_codes", code)
		})
	}
}

func TestAuthenticatorsOffWithoutMFA(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, headless.Options{})
	f.register(t, "")
	c := f.appClient(t)
	c.login(t)
	// (account/authenticators/totp too, whose 404 the specification gives a meta.secret.)
	for _, p := range []string{"account/authenticators", "account/authenticators/recovery-codes"} {
		assert.Equal(t, 404, c.do(http.MethodGet, p, nil).code, p)
	}
}

func TestLoginUnverifiedMailsVerification(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory }, tc.opts)
			f.register(t, "ada@example.test")
			mails := func() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.mails) }
			require.Equal(t, 1, mails(), "the signup's mail")
			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)
			login := map[string]string{"username": "ada", "password": adaPassword}
			r := c.do(http.MethodPost, "auth/login", login)
			require.Equal(t, 401, r.code)
			assert.Equal(t, true, r.flows(t)["verify_email"]["is_pending"])
			assert.Equal(t, 2, mails(), "a new verification mail")
			assert.Equal(t, 401, c.do(http.MethodPost, "auth/login", login).code)
			assert.Equal(t, 2, mails(), "limited by the resend rule")
			f.advance(4 * time.Minute)
			assert.Equal(t, 401, c.do(http.MethodPost, "auth/login", login).code)
			assert.Equal(t, 3, mails())
			r = c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "wrong-password"})
			assert.Equal(t, 400, r.code)
			assert.Equal(t, 3, mails(), "only the right password earns a mail")
		})
	}
}
