package restauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// Regression tests of security review A (the 291 dialect, the middleware and the core
// password, session, token and e-mail operations). Each failed before its fix.

// loginCookies logs username in through the 291 login route and returns the sessionid
// and csrftoken cookies the answer set, and the sessionid cookie itself.
func loginCookies(t *testing.T, e *testEnv, username string) (sid, csrf string, c *http.Cookie) {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": username, "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	c = findSessionCookie(t, res.Header())
	require.NotNil(t, c)
	for _, rc := range res.Result().Cookies() {
		if rc.Name == "csrftoken" {
			csrf = rc.Value
		}
	}
	require.NotEmpty(t, csrf)
	return c.Value, csrf, c
}

// TestPasswordChangeRenewsSessionID: a password change keeps the changing session logged
// in, but under a new id (Django's update_session_auth_hash cycles the key), so a copy of
// the session cookie taken before the change — the reason many users change their
// password — stops working with it. Before the fix the id stayed and the copy followed
// the new password's auth hash.
func TestPasswordChangeRenewsSessionID(t *testing.T) {
	t.Parallel()
	inSessionBubble(t, func(t *testing.T, newEnv func(*testing.T, ...func(*restauth.Config)) *testEnv) {
		e := newEnv(t)
		u, _ := e.register("vera", goodPassword, "")
		sid, csrf, loginCookie := loginCookies(t, e, "vera")
		before, err := e.svc.UserSessions(context.Background(), u.ID)
		require.NoError(t, err)
		require.Len(t, before, 1)

		time.Sleep(time.Hour) // the bubble's clock: the session's absolute deadline must not move
		res := e.do(http.MethodPost, "/api/auth/password/change/",
			map[string]any{"old_password": goodPassword, "new_password1": newPassword, "new_password2": newPassword},
			withSessionID(sid), withCookie("csrftoken", csrf), withHeader("X-CSRFToken", csrf))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		renewed := findSessionCookie(t, res.Header())
		require.NotNil(t, renewed, "the answer carries the session's new id")
		assert.NotEqual(t, sid, renewed.Value, "the session id is renewed")
		assert.Equal(t, loginCookie.Expires, renewed.Expires, "the renewal keeps the session's absolute lifetime")

		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(renewed.Value)).Code,
			"the changing session stays logged in under its new id")
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid)).Code,
			"a copy of the old session id is dead")

		after, err := e.svc.UserSessions(context.Background(), u.ID)
		require.NoError(t, err)
		require.Len(t, after, 1, "the session index follows the new id")
		assert.Equal(t, before[0].Created, after[0].Created, "the session keeps its login time in the index")
		assert.Equal(t, before[0].IP, after[0].IP)
	})
}

// TestSetPasswordRenewsSessionID: setting a first password (a provider-only account) is a
// password change for the session too: SetPassword renews the id of the session it keeps.
func TestSetPasswordRenewsSessionID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("wren", goodPassword, "")
	unusable := "!unusable"
	u, err := e.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{PasswordHash: &unusable})
	require.NoError(t, err)

	var loggedIn, renewed string
	h := e.svc.Sessions().LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, e.svc.LoginSession(r.Context(), u))
		loggedIn = e.svc.Sessions().Token(r.Context())
		_, err := e.svc.SetPassword(r.Context(), u, restauth.PasswordChange{New1: newPassword, New2: newPassword, Session: restauth.SessionKept})
		require.NoError(t, err)
		renewed = e.svc.Sessions().Token(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "http://testserver/", nil))
	require.NotEmpty(t, loggedIn)
	assert.NotEqual(t, loggedIn, renewed, "the session id is renewed by the password set")
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(renewed)).Code,
		"the session stays logged in under its new id")
}
