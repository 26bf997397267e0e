package restauth_test

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// sessionDownEnv is a testEnv whose session store refuses to save, recording the audit
// events and the log; store.fail(false, false) brings it back.
func sessionDownEnv(t *testing.T, configure ...func(*restauth.Config)) (*testEnv, *recordingStore, *auditRecorder, *syncBuffer) {
	t.Helper()
	store, rec, logs := newRecordingStore(), &auditRecorder{}, &syncBuffer{}
	e := newEnv(t, append([]func(*restauth.Config){withAudit(rec), func(c *restauth.Config) {
		c.Sessions.Store = store
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}}, configure...)...)
	store.fail(false, true)
	return e, store, rec, logs
}

// assertSessionUnavailable checks the 291 answer to a session that could not be saved.
func assertSessionUnavailable(t *testing.T, res response) {
	t.Helper()
	assert.Equal(t, http.StatusServiceUnavailable, res.Code)
	assert.Equal(t, "application/json", res.Header().Get("Content-Type"))
	assert.Equal(t, "5", res.Header().Get("Retry-After"))
	assert.Equal(t, map[string]any{"detail": "Service temporarily unavailable, try again later."}, res.JSON(t))
	assert.Nil(t, findSessionCookie(t, res.Header()), "no session cookie")
	assert.Empty(t, res.Header().Values("Set-Cookie"), "no cookie at all: the CSRF rotation belongs to the login that failed")
}

// TestSessionSaveFailureRevokesLoginToken (issue #17 F1): a login whose session cannot be
// saved answers 503 without its key, and the key it issued is revoked, so no credential
// lives that the client was not told about.
func TestSessionSaveFailureRevokesLoginToken(t *testing.T) {
	t.Parallel()
	e, store, rec, logs := sessionDownEnv(t)
	u, first := e.register("wanda", goodPassword, "")

	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "wanda", "password": goodPassword})
	assertSessionUnavailable(t, res)
	assert.NotContains(t, res.Body.String(), "key")
	assert.Contains(t, logs.String(), "session store failed")
	assert.Contains(t, logs.String(), errStoreDown.Error())

	tokens, err := e.store.Tokens(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, tokens, 2, "the registration's token and the login's")
	live := 0
	for i := range tokens {
		if e.svc.TokenActive(&tokens[i]) {
			live++
		}
	}
	assert.Equal(t, 1, live, "only the registration's token is live: the login's was revoked")
	_, _, err = e.svc.AuthenticateToken(t.Context(), first)
	require.NoError(t, err, "other tokens are left alone")
	assert.Contains(t, rec.takeKinds(), restauth.AuditTokenRevoked, "the revocation is audited")

	store.fail(false, false)
	res = e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "wanda", "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	require.NotNil(t, findSessionCookie(t, res.Header()), "the session is saved once the store is back")
	key, _ := res.JSON(t)["key"].(string)
	_, _, err = e.svc.AuthenticateToken(t.Context(), key)
	require.NoError(t, err, "the retry's key works")
}

// TestSessionSaveFailureUndoesRegistration (issue #17 F1): a registration whose session
// cannot be saved answers 503 and deletes the account again, so the client's retry with
// the same username succeeds instead of finding it taken. So with either answer: the
// default 204 with the session, and RegistrationTokenAnswer's 201 {"key"}.
func TestSessionSaveFailureUndoesRegistration(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		configure func(*restauth.Config)
	}{{"session answer", func(*restauth.Config) {}}, {"token answer", tokenAnswer}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, store, rec, _ := sessionDownEnv(t, tc.configure)
			body := map[string]any{"username": "xena", "email": "xena@example.com", "password1": goodPassword, "password2": goodPassword}

			res := e.do(http.MethodPost, "/api/auth/registration/", body)
			assertSessionUnavailable(t, res)
			assert.NotContains(t, res.Body.String(), "key")
			_, err := e.store.UserByUsername(t.Context(), "xena")
			require.ErrorIs(t, err, restauth.ErrNotFound, "the account is gone again")
			assert.Contains(t, rec.takeKinds(), restauth.AuditUserDeleted)

			store.fail(false, false)
			res = e.do(http.MethodPost, "/api/auth/registration/", body)
			if tc.name == "session answer" {
				require.Equal(t, http.StatusNoContent, res.Code, "the retry registers: %s", res.Body)
				assert.Equal(t, "xena", e.sessionUsername(res), "the retry's session is logged in")
				return
			}
			require.Equal(t, http.StatusCreated, res.Code, "the retry registers: %s", res.Body)
			key, _ := res.JSON(t)["key"].(string)
			got, _, err := e.svc.AuthenticateToken(t.Context(), key)
			require.NoError(t, err)
			assert.Equal(t, "xena", got.Username)
		})
	}
}

// TestSessionSaveFailureOnSocialCallback: a social login whose session cannot be saved
// ends at the error URL (not a 503 page in the middle of the browser's redirects), with no
// session; the account the flow created stays linked and the retried flow logs into it.
func TestSessionSaveFailureOnSocialCallback(t *testing.T) {
	t.Parallel()
	p := newOAuthProvider(t)
	p.user = map[string]any{"id": 4242, "login": "yara", "email": "yara@example.com"}
	p.emails = []map[string]any{{"email": "yara@example.com", "primary": true, "verified": true}}
	store := newRecordingStore()
	e := newSSOEnv(t, func(c *restauth.Config) {
		c.Social.Registration = true
		c.Social.Providers = []restauth.SocialProvider{p.githubAt()}
		c.Sessions.Store = store
	})

	store.fail(false, true)
	b := e.ssoBrowser(p.srv.URL)
	e.assertFailed(t, b.follow("/api/auth/social/github/login/"), "server_error")
	assert.Nil(t, b.cookie("/api/", "sessionid"), "no session cookie")
	assert.Empty(t, b.flowCookies(), "the flow is over")
	store.fail(false, false)
	assert.Equal(t, "", b.whoami(), "nobody is logged in")
	u, err := e.store.UserByUsername(t.Context(), "yara")
	require.NoError(t, err, "the account the flow created stays")
	tokens, err := e.store.Tokens(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Empty(t, tokens, "a social login issues no token")

	b = e.ssoBrowser(p.srv.URL)
	e.assertLanded(t, b.follow("/api/auth/social/github/login/"), "/platform/logged-in/")
	assert.Equal(t, "yara", b.whoami(), "the retried flow logs into the same account")
}
