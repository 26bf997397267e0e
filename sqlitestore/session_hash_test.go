package sqlitestore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// TestSessionIDNotInTable: restauth keys sessions by a hash of their id, so the sessions
// table (a backup, a read-only SQL injection) holds nothing that works as a cookie.
func TestSessionIDNotInTable(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	svc, err := restauth.New(restauth.Config{
		Store:     s,
		Secret:    bytes.Repeat([]byte("k"), 32),
		SiteURL:   "http://testserver",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
		Mail:      restauth.MailConfig{Mailer: restauth.MailerFunc(func(context.Context, *restauth.Message) error { return nil })},
		Sessions:  restauth.SessionConfig{Store: s.SessionStore()},
	})
	require.NoError(t, err)
	const password = "Vq7#mLp2!xRt"
	reg, err := svc.Register(t.Context(), restauth.RegisterRequest{Username: "wanda", Password1: password, Password2: password})
	require.NoError(t, err)
	h := svc.Handler()

	body, err := json.Marshal(map[string]string{"username": "wanda", "password": password})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "http://testserver/api/auth/login/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var sid string
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sessionid" {
			sid = c.Value
		}
	}
	require.NotEmpty(t, sid)

	var stored []string
	rows, err := s.DB().QueryContext(t.Context(), `SELECT token FROM sessions`)
	require.NoError(t, err)
	for rows.Next() {
		var tok string
		require.NoError(t, rows.Scan(&tok))
		stored = append(stored, tok)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Len(t, stored, 1, "one session after the login")
	assert.NotEqual(t, sid, stored[0], "the table does not hold the browser's session id")
	assert.False(t, strings.Contains(stored[0], sid))

	user := func(cookie string) int {
		req := httptest.NewRequest(http.MethodGet, "http://testserver/api/auth/user/", nil)
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: cookie})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusUnauthorized, user(stored[0]), "the stored value opens no session")
	assert.Equal(t, http.StatusOK, user(sid), "the cookie does")

	// The session index holds the table's key, and ending the session through it deletes
	// the row: the cookie opens nothing any more.
	recs, err := s.UserSessions(t.Context(), reg.User.ID)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, stored[0], recs[0].SessionHash)
	list, err := svc.UserSessions(t.Context(), reg.User.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	loggedOut, err := svc.EndSessions(t.Context(), reg.User.ID, []int64{list[0].ID})
	require.NoError(t, err)
	assert.False(t, loggedOut, "no session in this context")
	var left int
	require.NoError(t, s.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM sessions`).Scan(&left))
	assert.Zero(t, left)
	assert.Equal(t, http.StatusUnauthorized, user(sid))
}
