package restauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// DisablePasswordReset used to only set a flag in providers/; it now refuses both steps,
// in the operations (so direct callers too) and on the routes, and mails nothing.
func TestDisablePasswordResetRefuses(t *testing.T) {
	t.Parallel()
	open := newEnv(t)
	open.register("rita", goodPassword, "rita@example.com")
	require.Equal(t, http.StatusOK, open.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "rita@example.com"}).Code)
	uid, token := resetLink(t, open.mailer.Messages()[len(open.mailer.Messages())-1])

	closed := newEnv(t, func(c *restauth.Config) { c.DisablePasswordReset = true })
	closed.register("rita", goodPassword, "rita@example.com")
	sent := len(closed.mailer.Messages())
	for _, tc := range []struct {
		path string
		body map[string]any
	}{
		{"/api/auth/password/reset/", map[string]any{"email": "rita@example.com"}},
		{"/api/auth/password/reset/confirm/", map[string]any{"uid": uid, "token": token, "new_password1": "x-new-secret-9", "new_password2": "x-new-secret-9"}},
	} {
		res := closed.do(http.MethodPost, tc.path, tc.body)
		require.Equal(t, http.StatusBadRequest, res.Code, tc.path)
		assert.Equal(t, []any{"Password reset is disabled."}, res.JSON(t)["non_field_errors"], tc.path)
	}
	assert.Len(t, closed.mailer.Messages(), sent, "no reset mail")
	ctx := context.Background()
	assert.ErrorIs(t, closed.svc.RequestPasswordReset(ctx, "rita@example.com"), restauth.ErrPasswordResetDisabled)
	_, err := closed.svc.ConfirmPasswordReset(ctx, restauth.PasswordResetConfirm{UID: uid, Token: token, New1: "a", New2: "a"})
	assert.ErrorIs(t, err, restauth.ErrPasswordResetDisabled)
	// providers/ still reports it, as before.
	assert.Equal(t, false, closed.do(http.MethodGet, "/api/auth/providers/", nil).JSON(t)["password_forgotten_enabled"])
}

// LoginRequest.Email was accepted and never read; with Config.LoginByEmail a login can name
// the account by address (allauth's LOGIN_METHODS = {"username", "email"}). Off, the field
// is checked and ignored, as InvenTree 291 does.
func TestLoginByEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		enabled bool
		body    map[string]any
		want    int
		detail  string
	}{
		{"off: email ignored", false, map[string]any{"email": "lena@example.com", "password": goodPassword}, http.StatusBadRequest, `Must include "username" and "password".`},
		{"off: username works", false, map[string]any{"username": "lena", "email": "nobody@example.com", "password": goodPassword}, http.StatusOK, ""},
		{"on: by address", true, map[string]any{"email": "LENA@example.com", "password": goodPassword}, http.StatusOK, ""},
		{"on: address wins over username", true, map[string]any{"username": "someone-else", "email": "lena@example.com", "password": goodPassword}, http.StatusOK, ""},
		{"on: wrong password", true, map[string]any{"email": "lena@example.com", "password": "nope-nope-nope"}, http.StatusBadRequest, "Unable to log in with provided credentials."},
		{"on: unknown address", true, map[string]any{"email": "ghost@example.com", "password": goodPassword}, http.StatusBadRequest, "Unable to log in with provided credentials."},
		{"on: neither", true, map[string]any{"password": goodPassword}, http.StatusBadRequest, `Must include either "username" or "email" and "password".`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *restauth.Config) { c.LoginByEmail = tc.enabled })
			e.register("lena", goodPassword, "lena@example.com")
			before := hashesOf(e)
			res := e.do(http.MethodPost, "/api/auth/login/", tc.body)
			require.Equal(t, tc.want, res.Code, res.Body.String())
			if tc.detail != "" {
				assert.Equal(t, []any{tc.detail}, res.JSON(t)["non_field_errors"])
			}
			if tc.want == http.StatusOK || tc.detail == "Unable to log in with provided credentials." {
				assert.Equal(t, before+1, hashesOf(e), "one hash, known address or not")
			}
		})
	}
}

// failingAddresses is a Store whose address lookups fail, as a database outage would.
type failingAddresses struct{ restauth.Store }

func (failingAddresses) EmailAddresses(context.Context, int64) ([]restauth.EmailAddress, error) {
	return nil, errors.New("database is down")
}

// Under mandatory verification a store failure while checking the address is a server
// error, never the refusal "E-mail is not verified." (which would tell a user with a
// verified address something false and keep the attempt's count).
func TestLoginVerificationCheckStoreFailureIsNotARefusal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
	_, err := e.svc.CreateUser(context.Background(), restauth.NewUser{Username: "vera", Email: "vera@example.com", Password: goodPassword, EmailVerified: true})
	require.NoError(t, err)
	broken, err := restauth.New(restauth.Config{Store: failingAddresses{e.store}, Secret: testSecret, SiteURL: "http://testserver",
		Passwords: cheapPasswords, EmailVerification: restauth.VerificationMandatory, RateLimits: noRateLimits()})
	require.NoError(t, err)
	_, err = broken.Login(context.Background(), restauth.LoginRequest{Username: "vera", Password: goodPassword})
	require.Error(t, err)
	assert.NotErrorIs(t, err, restauth.ErrEmailNotVerified)
	assert.ErrorContains(t, err, "database is down")
}
