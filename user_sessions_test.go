package restauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// sessionContext loads the session of cookie value id, as a dialect does for a request.
func sessionContext(t *testing.T, e *testEnv, id string) context.Context {
	t.Helper()
	ctx, err := e.svc.Sessions().Load(t.Context(), id)
	require.NoError(t, err)
	return ctx
}

// sessionAuthenticates reports whether the 291 dialect takes the session id as logged in.
func sessionAuthenticates(e *testEnv, id string) bool {
	return e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(id)).Code == http.StatusOK
}

// storeKey is scs's key of a hashed session id, written out here to pin that the index
// holds the key the session store uses.
func storeKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestSessionLoginIsIndexedAndLogoutUnindexes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("una", goodPassword, "una@example.com")
	first := sessionCookie(t, e, "una")
	second := sessionCookie(t, e, "una")

	recs, err := e.store.UserSessions(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, storeKey(first.Value), recs[0].SessionHash, "the index holds the session store's key")
	assert.Equal(t, storeKey(second.Value), recs[1].SessionHash)
	assert.Equal(t, "192.0.2.1", recs[0].IP, "httptest's client address, without its port")
	assert.Equal(t, e.clock.Now().UTC(), recs[0].Created)
	_, found, err := e.svc.Sessions().Store.Find(recs[0].SessionHash)
	require.NoError(t, err)
	assert.True(t, found, "the key finds the stored session")

	ctx := sessionContext(t, e, second.Value)
	list, err := e.svc.UserSessions(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []bool{false, true}, []bool{list[0].Current, list[1].Current})
	assert.Equal(t, recs[0].ID, list[0].ID)

	const csrf = "abcdefghijklmnopqrstuvwxyzABCDEF"
	res := e.do(http.MethodPost, "/api/auth/logout/", nil, withSessionID(first.Value),
		withCookie("csrftoken", csrf), withHeader("X-CSRFToken", csrf))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	list, err = e.svc.UserSessions(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.True(t, list[0].Current)
}

func TestLoginOverALoggedInSessionReplacesItsRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("vera", goodPassword, "")
	first := sessionCookie(t, e, "vera")
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "vera", "password": goodPassword}, withSessionID(first.Value))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	renewed := findSessionCookie(t, res.Header())
	require.NotNil(t, renewed)
	require.NotEqual(t, first.Value, renewed.Value)

	recs, err := e.store.UserSessions(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, recs, 1, "the renewed session is one session")
	assert.Equal(t, storeKey(renewed.Value), recs[0].SessionHash)
}

func TestEndSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("wren", goodPassword, "")
	other, _ := e.register("xavi", goodPassword, "")
	mine := sessionCookie(t, e, "wren")
	elsewhere := sessionCookie(t, e, "wren")
	theirs := sessionCookie(t, e, "xavi")
	ctx := sessionContext(t, e, mine.Value)
	list, err := e.svc.UserSessions(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	theirList, err := e.svc.UserSessions(t.Context(), other.ID)
	require.NoError(t, err)
	require.Len(t, theirList, 1)

	t.Run("another user's session is refused, and nothing ends", func(t *testing.T) {
		loggedOut, err := e.svc.EndSessions(ctx, u.ID, []int64{list[1].ID, theirList[0].ID})
		var verr *restauth.ValidationError
		require.ErrorAs(t, err, &verr)
		assert.ErrorIs(t, err, restauth.ErrNotFound)
		assert.Contains(t, verr.Fields, "sessions")
		assert.False(t, loggedOut)
		assert.True(t, sessionAuthenticates(e, elsewhere.Value))
		assert.True(t, sessionAuthenticates(e, theirs.Value))
	})
	t.Run("no ids is a required field", func(t *testing.T) {
		_, err := e.svc.EndSessions(ctx, u.ID, nil)
		var verr *restauth.ValidationError
		require.ErrorAs(t, err, &verr)
		assert.Equal(t, []string{"This field is required."}, verr.Fields["sessions"])
	})
	t.Run("another session of the user ends everywhere", func(t *testing.T) {
		loggedOut, err := e.svc.EndSessions(ctx, u.ID, []int64{list[1].ID})
		require.NoError(t, err)
		assert.False(t, loggedOut)
		assert.False(t, sessionAuthenticates(e, elsewhere.Value))
		assert.True(t, sessionAuthenticates(e, mine.Value))
		left, err := e.svc.UserSessions(ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, left, 1)
		assert.Equal(t, list[0].ID, left[0].ID)
	})
	t.Run("the current session logs out", func(t *testing.T) {
		loggedOut, err := e.svc.EndSessions(ctx, u.ID, []int64{list[0].ID})
		require.NoError(t, err)
		assert.True(t, loggedOut)
		assert.Equal(t, "", e.svc.Sessions().Token(ctx), "the session in ctx was destroyed")
		assert.False(t, sessionAuthenticates(e, mine.Value))
		left, err := e.svc.UserSessions(t.Context(), u.ID)
		require.NoError(t, err)
		assert.Empty(t, left)
		assert.True(t, sessionAuthenticates(e, theirs.Value), "the other user's session is untouched")
	})
}

func TestUserSessionsDropsSessionsThatNoLongerAuthenticate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("yuki", goodPassword, "")
	kept := sessionCookie(t, e, "yuki")
	sessionCookie(t, e, "yuki")
	// A password change through the token: both sessions are of the old password.
	res := e.do(http.MethodPost, "/api/auth/password/change/",
		map[string]any{"old_password": goodPassword, "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	list, err := e.svc.UserSessions(sessionContext(t, e, kept.Value), u.ID)
	require.NoError(t, err)
	assert.Empty(t, list)
	recs, err := e.store.UserSessions(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Empty(t, recs, "the stale records were dropped")
}

func TestRevokeAllCredentialsEmptiesTheSessionIndex(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec))
	u, _ := e.register("zora", goodPassword, "")
	a := sessionCookie(t, e, "zora")
	b := sessionCookie(t, e, "zora")
	require.NoError(t, e.svc.RevokeAllCredentials(t.Context(), u.ID))
	recs, err := e.store.UserSessions(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Empty(t, recs)
	assert.False(t, sessionAuthenticates(e, a.Value))
	assert.False(t, sessionAuthenticates(e, b.Value))
	var detail string // register's token and one of each login
	for _, ev := range rec.all {
		if ev.Kind == restauth.AuditCredentialsRevoked {
			detail = ev.Detail
		}
	}
	assert.Equal(t, "tokens=3 sessions=2", detail, "each session counted once")
}

func TestUserSessionsOutsideARequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("abel", goodPassword, "")
	sessionCookie(t, e, "abel")
	list, err := e.svc.UserSessions(context.Background(), u.ID)
	require.NoError(t, err, "a context without a session lists without a current one")
	require.Len(t, list, 1)
	assert.False(t, list[0].Current)
	_, err = e.svc.UserSessions(context.Background(), u.ID+100)
	assert.ErrorIs(t, err, restauth.ErrNotFound)
}
