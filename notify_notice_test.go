package restauth_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// addVerifiedByLink adds email to the caller's account over HTTP and verifies it with the
// link of the confirmation mail, as the user would; it returns the address id.
func (e *testEnv) addVerifiedByLink(t *testing.T, key, email string) int64 {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": email}, withToken(key))
	require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
	id := int64(res.JSON(t)["id"].(float64))
	msgs := e.mailer.Messages()
	require.NotEmpty(t, msgs)
	confirm := msgs[len(msgs)-1]
	require.Equal(t, []string{email}, confirm.To)
	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirmationKey(t, confirm)}, withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	return id
}

func (e *testEnv) changePassword(t *testing.T, key, from, to string) {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/password/change/", map[string]any{
		"old_password": from, "new_password1": to, "new_password2": to}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
}

func (e *testEnv) activateTOTP(t *testing.T, key string) {
	t.Helper()
	res := e.do(http.MethodGet, totpPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
	res = e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
}

// A user registered (optional verification) with a mistyped address, someone else's, then
// added and verified their real one. Notices naming the account and its changes go to the
// real address only, never to the stranger's.
func TestNoticesSkipUnverifiedPrimary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationOptional })
	u, key := e.register("tina", goodPassword, "tina@typo.example")
	typo := e.addresses(t, u.ID)[0]
	require.True(t, typo.Primary)
	require.False(t, typo.Verified)
	realID := e.addVerifiedByLink(t, key, "tina@example.com")

	// The primary address is unverified: the verified one is told instead.
	from := len(e.mailer.Messages())
	e.activateTOTP(t, key)
	assert.Equal(t, []string{"tina@example.com [restauth] Authenticator App Activated"}, e.notices(from))

	// The previous primary was never verified: nobody is told it was replaced (the notice
	// would name the account and the new address to the stranger).
	from = len(e.mailer.Messages())
	res := e.do(http.MethodPost, "/api/auth/emails/"+fmtFloat(float64(realID))+"/primary/", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"id": float64(realID), "email": "tina@example.com", "verified": true, "primary": true, "user": float64(u.ID)}, res.JSON(t))
	assert.Empty(t, e.notices(from))

	from = len(e.mailer.Messages())
	e.changePassword(t, key, goodPassword, newPassword)
	assert.Equal(t, []string{"tina@example.com [restauth] Password Changed"}, e.notices(from))

	// Removing the unverified address tells nobody either.
	from = len(e.mailer.Messages())
	res = e.do(http.MethodPost, "/api/auth/emails/"+fmtFloat(float64(typo.ID))+"/remove/", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Empty(t, e.notices(from))
}

// With an unverified primary and several verified addresses, the notice goes to the
// verified address with the lowest id.
func TestNoticeFallsBackToFirstVerifiedAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("uma", goodPassword, "uma@typo.example")
	ctx := context.Background()
	for _, email := range []string{"uma@unverified.example", "uma@first.example", "uma@second.example"} {
		require.NoError(t, e.store.AddEmailAddress(ctx, &restauth.EmailAddress{UserID: u.ID, Email: email}))
	}
	addrs := e.addresses(t, u.ID)
	require.Len(t, addrs, 4)
	// Verified out of id order, so the choice cannot come from the order of verification.
	e.verify(t, addrs[3].ID)
	e.verify(t, addrs[2].ID)

	from := len(e.mailer.Messages())
	e.changePassword(t, key, goodPassword, newPassword)
	assert.Equal(t, []string{"uma@first.example [restauth] Password Changed"}, e.notices(from))

	// Once the primary address is verified it is the one told.
	e.verify(t, addrs[0].ID)
	from = len(e.mailer.Messages())
	e.changePassword(t, key, newPassword, goodPassword)
	assert.Equal(t, []string{"uma@typo.example [restauth] Password Changed"}, e.notices(from))
}

// A user with no verified address is sent no notice at all; every change still succeeds.
func TestNoticesWithoutVerifiedAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationOptional })
	u, key := e.register("vera", goodPassword, "vera@example.com")
	from := len(e.mailer.Messages())

	e.changePassword(t, key, goodPassword, newPassword)
	e.activateTOTP(t, key)
	res := e.do(http.MethodPost, recoveryPath, map[string]any{"password": newPassword}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	res = e.do(http.MethodDelete, totpPath, map[string]any{"password": newPassword}, withToken(key))
	require.Equal(t, http.StatusNoContent, res.Code, res.Body.String())
	assert.Empty(t, e.notices(from))

	// An unverified primary replaced by another unverified address: nobody is told.
	res = e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": "vera@other.example"}, withToken(key))
	require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
	second := int64(res.JSON(t)["id"].(float64))
	from = len(e.mailer.Messages())
	res = e.do(http.MethodPost, "/api/auth/emails/"+fmtFloat(float64(second))+"/primary/", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, "vera@other.example", e.user(t, u.ID).Email)
	assert.Empty(t, e.notices(from))
}

// The notice for a connected provider account follows the same rule. The user is a new
// one, val, so that the test does not depend on how crossSiteEnv sets up vic.
func TestSocialConnectedNoticeOnlyToVerified(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prepare sets up val's addresses (primary val@example.com, unverified).
		prepare func(t *testing.T, e *ssoEnv, val *restauth.User)
		want    []string
	}{
		{"unverified primary only", func(*testing.T, *ssoEnv, *restauth.User) {}, nil},
		{"verified primary", func(t *testing.T, e *ssoEnv, val *restauth.User) {
			e.verify(t, e.addresses(t, val.ID)[0].ID)
		}, []string{"val@example.com"}},
		{"unverified primary, verified other address", func(t *testing.T, e *ssoEnv, val *restauth.User) {
			addr := &restauth.EmailAddress{UserID: val.ID, Email: "val@real.example", Verified: true}
			require.NoError(t, e.store.AddEmailAddress(context.Background(), addr))
		}, []string{"val@real.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, p, _ := crossSiteEnv(t)
			val, _ := e.register("val", goodPassword, "val@example.com")
			tc.prepare(t, e, val)
			b := e.ssoBrowser(p.srv.URL)
			b.login("val", goodPassword)
			e.assertLanded(t, b.follow("/api/auth/social/github/connect/"), "/platform/logged-in/")
			var got []string
			for _, m := range connectedNotices(e) {
				got = append(got, m.To...)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
