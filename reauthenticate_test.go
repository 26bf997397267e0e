package restauth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

func TestReauthenticate(t *testing.T) {
	t.Parallel()
	var events []restauth.AuditEvent
	e := newEnv(t, func(c *restauth.Config) {
		c.Audit = func(_ context.Context, ev restauth.AuditEvent) { events = append(events, ev) }
	})
	ctx := context.Background()
	u, _ := e.register("alice", goodPassword, "alice@example.com")

	at, err := e.svc.Reauthenticate(ctx, u, goodPassword)
	require.NoError(t, err)
	assert.Equal(t, e.clock.Now(), at)
	assert.True(t, e.svc.RecentlyAuthenticated(at))
	e.clock.Advance(301 * time.Second)
	assert.False(t, e.svc.RecentlyAuthenticated(at), "300 s")
	assert.False(t, e.svc.RecentlyAuthenticated(time.Time{}))

	_, err = e.svc.Reauthenticate(ctx, u, "wrong")
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr)
	require.ErrorIs(t, err, restauth.ErrInvalidCredentials)
	assert.Equal(t, []string{"Incorrect password."}, verr.Fields["password"])

	var kinds []restauth.AuditKind
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	assert.Contains(t, kinds, restauth.AuditReauthenticated)
	assert.Contains(t, kinds, restauth.AuditLoginFailed)
}

func TestReauthenticateThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.RateLimits = restauth.RateLimits{} })
	ctx := restauth.WithClient(context.Background(), restauth.Client{Addr: "192.0.2.8"})
	u, _ := e.register("alice", goodPassword, "")
	var err error
	for range 6 {
		_, err = e.svc.Reauthenticate(ctx, u, "wrong")
	}
	var throttled *restauth.ThrottledError
	require.ErrorAs(t, err, &throttled, "the login rules count re-authentications")
	assert.Equal(t, restauth.RuleLoginFailedAccount, throttled.Rule)
	_, err = e.svc.Reauthenticate(ctx, u, goodPassword)
	require.ErrorAs(t, err, &throttled, "over the limit even the right password is refused unchecked")
}

func TestReauthenticateMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	ctx := context.Background()
	_, app, recovery := e.enrol(t, "alice")
	u, err := e.store.UserByUsername(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.ReauthenticateMFA(ctx, u, "000000")
	require.ErrorIs(t, err, restauth.ErrInvalidMFACode)
	_, err = e.svc.ReauthenticateMFA(ctx, u, app.Code(e.clock.Now()))
	require.NoError(t, err)
	_, err = e.svc.ReauthenticateMFA(ctx, u, app.Code(e.clock.Now()))
	require.ErrorIs(t, err, restauth.ErrInvalidMFACode, "a TOTP step is accepted once")
	_, err = e.svc.ReauthenticateMFA(ctx, u, recovery[0])
	require.NoError(t, err)

	nobody, _ := e.register("bob", goodPassword, "")
	_, err = e.svc.ReauthenticateMFA(ctx, nobody, "123456")
	require.ErrorIs(t, err, restauth.ErrInvalidMFACode, "no authenticator")
}

func TestMFATrust(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, withMFA, func(c *restauth.Config) { c.MFA.TrustEnabled = true })
	key, app, _ := e.enrol(t, "alice")
	u, err := e.store.UserByUsername(ctx, "alice")
	require.NoError(t, err)
	bob, _ := e.register("bob", goodPassword, "")

	trust, expires, err := e.svc.IssueMFATrust(ctx, u)
	require.NoError(t, err)
	assert.Equal(t, e.clock.Now().Add(14*24*time.Hour), expires)
	_, _, err = e.svc.IssueMFATrust(ctx, bob)
	require.ErrorIs(t, err, restauth.ErrNotFound, "nothing to trust without an authenticator")

	ok, err := e.svc.MFATrusted(ctx, u, trust)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, _ = e.svc.MFATrusted(ctx, bob, trust)
	assert.False(t, ok, "bound to its user")
	ok, _ = e.svc.MFATrusted(ctx, u, trust+"x")
	assert.False(t, ok, "tampered")

	login, err := e.svc.Login(ctx, restauth.LoginRequest{Username: "alice", Password: goodPassword, MFATrust: trust, Defer: true})
	require.NoError(t, err)
	assert.Nil(t, login.Pending, "a trusted client skips the second factor")
	assert.Equal(t, "trust", login.MFAMethod)
	var res response
	_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: "alice", Password: goodPassword, MFATrust: "bogus"})
	require.ErrorIs(t, err, restauth.ErrMFARequired)
	_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: "alice", Password: "wrong", MFATrust: trust})
	require.ErrorIs(t, err, restauth.ErrInvalidCredentials, "trust replaces the second factor, never the password")

	e.clock.Advance(14*24*time.Hour + time.Second)
	ok, _ = e.svc.MFATrusted(ctx, u, trust)
	assert.False(t, ok, "expired after MFA.TrustCookieAge")
	fresh, _, err := e.svc.IssueMFATrust(ctx, u)
	require.NoError(t, err)
	// Removing the authenticator changes the user's MFA: the trust token is void.
	require.NoError(t, e.svc.ResetMFA(ctx, u.ID))
	res = e.do(http.MethodGet, totpPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	app = scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
	res = e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	ok, err = e.svc.MFATrusted(ctx, u, fresh)
	require.NoError(t, err)
	assert.False(t, ok, "a new authenticator voids the trust given for the old one")

	e2 := newEnv(t, withMFA)
	_, _, err = e2.svc.IssueMFATrust(ctx, u)
	require.ErrorIs(t, err, restauth.ErrMFATrustDisabled)
}
