package restauth_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// sessionCookie logs username in with e.do and returns the parsed sessionid Set-Cookie.
func sessionCookie(t *testing.T, e *testEnv, username string) *http.Cookie {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": username, "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	for _, line := range res.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		if c.Name == "sessionid" {
			return c
		}
	}
	t.Fatalf("no sessionid cookie in %q", res.Header().Values("Set-Cookie"))
	return nil
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		site   string
		secure bool
	}{
		{"http://testserver", false},
		{"https://testserver", true},
	} {
		t.Run(tc.site, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *restauth.Config) { c.SiteURL = tc.site })
			e.register("olga", goodPassword, "")
			before := time.Now()
			c := sessionCookie(t, e, "olga")
			assert.NotEmpty(t, c.Value)
			assert.True(t, c.HttpOnly, "HttpOnly")
			assert.Equal(t, http.SameSiteLaxMode, c.SameSite, "SameSite=Lax")
			assert.Equal(t, "/", c.Path)
			assert.Equal(t, tc.secure, c.Secure, "Secure exactly when SiteURL is https")
			// The default absolute lifetime is 14 days (scs keeps real time).
			assert.WithinDuration(t, before.Add(14*24*time.Hour), c.Expires, time.Minute)
		})
	}
}

func TestSessionConfigDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sm := e.svc.Sessions()
	assert.Equal(t, 14*24*time.Hour, sm.Lifetime)
	assert.Zero(t, sm.IdleTimeout, "no idle timeout by default")
	assert.Equal(t, "sessionid", sm.Cookie.Name)
	assert.True(t, sm.Cookie.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, sm.Cookie.SameSite)

	e = newEnv(t, func(c *restauth.Config) {
		c.SessionLifetime = 8 * time.Hour
		c.SessionIdleTimeout = 30 * time.Minute
	})
	sm = e.svc.Sessions()
	assert.Equal(t, 8*time.Hour, sm.Lifetime)
	assert.Equal(t, 30*time.Minute, sm.IdleTimeout)

	_, err := restauth.New(restauth.Config{Store: e.store, Secret: testSecret, SiteURL: "http://testserver",
		SessionIdleTimeout: -time.Second})
	assert.True(t, errors.Is(err, restauth.ErrConfig), "negative idle timeout: %v", err)
}

func TestSessionHostManagerKeepsItsSettings(t *testing.T) {
	t.Parallel()
	sm := scs.New()
	sm.Store = memstore.New()
	sm.Lifetime = 3 * time.Hour
	sm.IdleTimeout = 20 * time.Minute
	sm.Cookie.Name = "host_session"
	sm.Cookie.HttpOnly = false
	e := newEnv(t, func(c *restauth.Config) {
		c.Sessions = sm
		c.SessionLifetime = time.Hour // applies to the default manager only
	})
	assert.Same(t, sm, e.svc.Sessions())
	assert.Equal(t, 3*time.Hour, sm.Lifetime)
	assert.Equal(t, 20*time.Minute, sm.IdleTimeout)

	e.register("pia", goodPassword, "")
	c := sessionCookie(t, e, "pia")
	assert.True(t, c.HttpOnly, "HttpOnly is forced")
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
}

// withSessionID sends the session cookie by hand: a cookie jar would drop it on its
// Expires, rounded to seconds, and these tests are about the server ending the session.
func withSessionID(id string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "sessionid", Value: id}) }
}

// TestSessionIdleTimeout uses real time: scs stamps idle deadlines with time.Now, so the
// fake clock cannot drive it. The durations are short; the test asserts behaviour.
func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 500 * time.Millisecond
	e := newEnv(t, func(c *restauth.Config) { c.SessionIdleTimeout = idle })
	e.register("quinn", goodPassword, "")
	sid := sessionCookie(t, e, "quinn").Value

	// Activity keeps the session alive well past one idle period.
	for range 8 {
		time.Sleep(idle / 5)
		res := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid))
		require.Equal(t, http.StatusOK, res.Code, "an active session stays: %s", res.Body)
	}

	time.Sleep(2 * idle)
	res := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid))
	assert.Equal(t, http.StatusUnauthorized, res.Code, "an idle session has ended")
}

// TestSessionLifetimeIsAbsolute: activity does not stretch SessionLifetime.
func TestSessionLifetimeIsAbsolute(t *testing.T) {
	t.Parallel()
	const lifetime = time.Second
	e := newEnv(t, func(c *restauth.Config) {
		c.SessionLifetime = lifetime
		c.SessionIdleTimeout = time.Hour
	})
	e.register("rosa", goodPassword, "")
	sid := sessionCookie(t, e, "rosa").Value
	res := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())

	deadline := time.Now().Add(lifetime + 300*time.Millisecond)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid))
	}
	res = e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid))
	assert.Equal(t, http.StatusUnauthorized, res.Code, "the session has outlived SessionLifetime")
}

// TestSessionConfigRequiresSecret: the secret keys the session auth hash (and every other
// HMAC), so there is no default and a short one is refused.
func TestSessionConfigRequiresSecret(t *testing.T) {
	t.Parallel()
	for _, secret := range [][]byte{nil, []byte("too-short-secret-of-31-bytes-xx")} {
		_, err := restauth.New(restauth.Config{Store: newEnv(t).store, Secret: secret, SiteURL: "http://testserver"})
		assert.ErrorIs(t, err, restauth.ErrConfig, "secret of %d bytes", len(secret))
	}
}
