package restauth_test

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// deleteFailingStore is a recordingStore whose Delete can fail too, as a store that is
// down refuses a logout's Destroy.
type deleteFailingStore struct {
	*recordingStore
	failDelete atomic.Bool
}

func (s *deleteFailingStore) Delete(key string) error {
	if s.failDelete.Load() {
		s.record(key)
		return errStoreDown
	}
	return s.recordingStore.Delete(key)
}

// TestSessionDestroyFailureOnLogout (issue #17 F1): a logout whose session cannot be
// deleted answers the 291 503 with Retry-After (not a 500), logged; the presented token is
// revoked all the same, other tokens stay, and the retry once the store is back ends the
// session.
func TestSessionDestroyFailureOnLogout(t *testing.T) {
	t.Parallel()
	store, logs := &deleteFailingStore{recordingStore: newRecordingStore()}, &syncBuffer{}
	e := newEnv(t, func(c *restauth.Config) {
		c.Sessions.Store = store
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	_, first := e.register("ulla", goodPassword, "")
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "ulla", "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	sid := findSessionCookie(t, res.Header())
	require.NotNil(t, sid)
	key, _ := res.JSON(t)["key"].(string)
	require.NotEmpty(t, key)

	store.failDelete.Store(true)
	store.fail(false, true)
	res = e.do(http.MethodPost, "/api/auth/logout/", nil, withToken(key), withSessionID(sid.Value))
	assertSessionUnavailable(t, res)
	assert.Contains(t, logs.String(), "session store failed")
	assert.Contains(t, logs.String(), "path=/api/auth/logout/", "logged with the request")
	assert.Contains(t, logs.String(), errStoreDown.Error())
	assert.NotContains(t, logs.String(), sid.Value, "the session id is never logged")
	_, _, err := e.svc.AuthenticateToken(t.Context(), key)
	require.Error(t, err, "the presented token is revoked although the session was not ended")
	_, _, err = e.svc.AuthenticateToken(t.Context(), first)
	require.NoError(t, err, "other tokens are left alone")
	assert.Equal(t, "ulla", e.sessionUsernameOf(sid.Value), "the session the store could not delete is still there")

	store.failDelete.Store(false)
	store.fail(false, false)
	res = e.do(http.MethodPost, "/api/auth/logout/", nil, withToken(first), withSessionID(sid.Value))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"detail": "Successfully logged out."}, res.JSON(t))
	assert.Equal(t, "", e.sessionUsernameOf(sid.Value), "the retry ends the session")
}

// sessionUsernameOf returns the username the session id logs in, or "".
func (e *testEnv) sessionUsernameOf(id string) string {
	e.t.Helper()
	me := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(id))
	if me.Code != http.StatusOK {
		return ""
	}
	name, _ := me.JSON(e.t)["username"].(string)
	return name
}

// TestSessionSaveFailureOnPasswordChange (issue #17 F1): the password is committed before
// the session's new auth hash is saved, so a failed save cannot be answered 503 (the
// client would believe the change failed). It answers the change's 200 and ends the
// session: the cookie is deleted, and the stored session, holding the old password's
// hash, no longer authenticates. The new password works, the old one does not. A token
// caller has no session to save and is not affected.
func TestSessionSaveFailureOnPasswordChange(t *testing.T) {
	t.Parallel()
	change := map[string]any{"old_password": goodPassword, "new_password1": newPassword, "new_password2": newPassword}

	t.Run("session caller", func(t *testing.T) {
		t.Parallel()
		e, store, rec, logs := sessionDownEnv(t)
		store.fail(false, false)
		b := e.loggedInBrowser(t, "vera")
		sid := b.cookie("sessionid")
		require.NotEmpty(t, sid)
		rec.takeKinds()

		store.fail(false, true)
		status, body := b.do(http.MethodPost, "/api/auth/password/change/", change)
		require.Equal(t, http.StatusOK, status, string(body))
		assert.JSONEq(t, `{"detail":"New password has been saved."}`, string(body))
		assert.Empty(t, b.cookie("sessionid"), "the session cookie is deleted")
		assert.Contains(t, rec.takeKinds(), restauth.AuditPasswordChanged)
		assert.Contains(t, logs.String(), "session store failed after a password change")
		assert.Contains(t, logs.String(), errStoreDown.Error())
		assert.NotContains(t, logs.String(), sid, "the session id is never logged")

		store.fail(false, false)
		assert.Equal(t, "", e.sessionUsernameOf(sid), "the old session no longer authenticates")
		assert.Equal(t, http.StatusBadRequest, e.loginStatus("vera", goodPassword), "the old password is refused")
		assert.Equal(t, http.StatusOK, e.loginStatus("vera", newPassword), "the new password works")
	})

	t.Run("token caller", func(t *testing.T) {
		t.Parallel()
		e, store, _, _ := sessionDownEnv(t)
		_, key := e.register("wilma", goodPassword, "")
		res := e.do(http.MethodPost, "/api/auth/password/change/", change, withToken(key))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, map[string]any{"detail": "New password has been saved."}, res.JSON(t))
		assert.Nil(t, findSessionCookie(t, res.Header()), "no session was touched")
		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key)).Code, "the token stays valid")
		store.fail(false, false)
		assert.Equal(t, http.StatusOK, e.loginStatus("wilma", newPassword), "the new password works")
	})
}
