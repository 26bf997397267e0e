package restauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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
	c := findSessionCookie(t, res.Header())
	require.NotNil(t, c, "no sessionid cookie in %q", res.Header().Values("Set-Cookie"))
	return c
}

// findSessionCookie returns the sessionid Set-Cookie of h, or nil.
func findSessionCookie(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err, line)
		if c.Name == "sessionid" {
			return c
		}
	}
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
		// The scheme is case-insensitive (RFC 3986 §3.1).
		{"HTTPS://testserver", true},
		{"Http://testserver", false},
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
			assert.Empty(t, c.Domain, "a host-only cookie by default")
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
	assert.Equal(t, "/", sm.Cookie.Path)
	assert.True(t, sm.HashTokenInStore, "session ids are hashed at rest")
	assert.IsType(t, &memstore.MemStore{}, sm.Store, "in memory by default")

	e = newEnv(t, func(c *restauth.Config) {
		c.Sessions.Lifetime = 8 * time.Hour
		c.Sessions.IdleTimeout = 30 * time.Minute
	})
	sm = e.svc.Sessions()
	assert.Equal(t, 8*time.Hour, sm.Lifetime)
	assert.Equal(t, 30*time.Minute, sm.IdleTimeout)

	// Each Service builds its own manager from the Config, which it leaves as it was.
	cfg := restauth.Config{Store: e.store, Secret: testSecret, SiteURL: "http://testserver"}
	a, err := restauth.New(cfg)
	require.NoError(t, err)
	b, err := restauth.New(cfg)
	require.NoError(t, err)
	assert.NotSame(t, a.Sessions(), b.Sessions())
	assert.Equal(t, restauth.SessionConfig{}, cfg.Sessions, "the caller's Config is not changed")

	for name, sc := range map[string]restauth.SessionConfig{
		"negative idle timeout":  {IdleTimeout: -time.Second},
		"SameSite=None on http":  {SameSite: http.SameSiteNoneMode},
		"no SameSite attribute":  {SameSite: http.SameSiteDefaultMode},
		"unknown SameSite":       {SameSite: http.SameSite(42)},
		"relative path":          {Path: "api/"},
		"path with a semicolon":  {Path: "/a;b"},
		"domain with a space":    {Domain: "example .com"},
		"domain with a semicolo": {Domain: "example.com;x=y"},
	} {
		_, err := restauth.New(restauth.Config{Store: e.store, Secret: testSecret, SiteURL: "http://testserver", Sessions: sc})
		assert.ErrorIs(t, err, restauth.ErrConfig, name)
	}
	_, err = restauth.New(restauth.Config{Store: e.store, Secret: testSecret, SiteURL: "https://testserver",
		Sessions: restauth.SessionConfig{SameSite: http.SameSiteNoneMode}})
	assert.NoError(t, err, "SameSite=None with https")
}

// recordingStore is an scs.Store that keeps every key the session manager hands it.
type recordingStore struct {
	*memstore.MemStore
	mu   sync.Mutex
	keys []string
	// failFind and failCommit make those calls fail, as a store that is down does.
	failFind, failCommit bool
}

func newRecordingStore() *recordingStore {
	return &recordingStore{MemStore: memstore.NewWithCleanupInterval(0)}
}

var errStoreDown = errors.New("session store: connection refused")

func (s *recordingStore) record(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, key)
}

func (s *recordingStore) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keys)
}

func (s *recordingStore) fail(find, commit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFind, s.failCommit = find, commit
}

func (s *recordingStore) Find(key string) ([]byte, bool, error) {
	s.record(key)
	s.mu.Lock()
	fail := s.failFind
	s.mu.Unlock()
	if fail {
		return nil, false, errStoreDown
	}
	return s.MemStore.Find(key)
}

func (s *recordingStore) Commit(key string, b []byte, expiry time.Time) error {
	s.record(key)
	s.mu.Lock()
	fail := s.failCommit
	s.mu.Unlock()
	if fail {
		return errStoreDown
	}
	return s.MemStore.Commit(key, b, expiry)
}

func (s *recordingStore) Delete(key string) error {
	s.record(key)
	return s.MemStore.Delete(key)
}

func TestSessionCookieOptions(t *testing.T) {
	t.Parallel()
	store := newRecordingStore()
	e := newEnv(t, func(c *restauth.Config) {
		c.SiteURL = "https://app.example.com"
		c.Sessions = restauth.SessionConfig{Store: store, Domain: "example.com", Path: "/api/", SameSite: http.SameSiteStrictMode}
	})
	assert.Same(t, store, e.svc.Sessions().Store, "the host's store keeps the sessions")

	e.register("pia", goodPassword, "")
	c := sessionCookie(t, e, "pia")
	assert.Equal(t, "sessionid", c.Name, "the name is always Django's")
	assert.True(t, c.HttpOnly, "HttpOnly always")
	assert.True(t, c.Secure)
	assert.Equal(t, "example.com", c.Domain)
	assert.Equal(t, "/api/", c.Path)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
	assert.NotEmpty(t, store.seen(), "the session went to the host's store")
}

// TestSessionIDNotStored: the store keys a session by a hash of its id, so what the store
// holds (a backup, a dump) cannot be sent back as the cookie.
func TestSessionIDNotStored(t *testing.T) {
	t.Parallel()
	store := newRecordingStore()
	e := newEnv(t, func(c *restauth.Config) { c.Sessions.Store = store })
	e.register("ursula", goodPassword, "")
	login := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "ursula", "password": goodPassword})
	require.Equal(t, http.StatusOK, login.Code, login.Body.String())
	key, _ := login.JSON(t)["key"].(string)
	c := findSessionCookie(t, login.Header())
	require.NotNil(t, c)
	sid := c.Value

	all, err := store.All()
	require.NoError(t, err)
	require.Len(t, all, 1, "one session after the login")
	var stored string
	for k := range all {
		stored = k
	}
	assert.NotEqual(t, sid, stored, "the store does not hold the browser's session id")
	for _, k := range store.seen() {
		assert.NotContains(t, k, sid, "the store is never handed the session id")
	}

	res := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(stored))
	assert.Equal(t, http.StatusUnauthorized, res.Code, "the stored value opens no session: %s", res.Body)
	res = e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid))
	require.Equal(t, http.StatusOK, res.Code, "the cookie does: %s", res.Body)

	// Logout finds the stored session through the same hash, and deletes it.
	res = e.do(http.MethodPost, "/api/auth/logout/", nil, withToken(key), withSessionID(sid))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	all, err = store.All()
	require.NoError(t, err)
	assert.Empty(t, all, "logout deleted the stored session")
}

// TestSessionStoreFailureAnswers503: a session store that fails while loading or saving is
// answered in the 291 dialect, 503 {"detail": …} with Retry-After, never with scs's
// text/plain 500; the log names the failure but not the session id.
func TestSessionStoreFailureAnswers503(t *testing.T) {
	t.Parallel()
	want := map[string]any{"detail": "Service temporarily unavailable, try again later."}
	check := func(t *testing.T, rec *httptest.ResponseRecorder, logs *syncBuffer, sid string) {
		t.Helper()
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		assert.Equal(t, "5", rec.Header().Get("Retry-After"))
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "one JSON value and nothing after it: %s", rec.Body)
		assert.Equal(t, want, body)
		assert.Nil(t, findSessionCookie(t, rec.Header()), "no session cookie")
		assert.Contains(t, logs.String(), "session store failed")
		assert.Contains(t, logs.String(), errStoreDown.Error())
		if sid != "" {
			assert.NotContains(t, logs.String(), sid, "the log holds no session id")
		}
	}
	setup := func(t *testing.T) (*testEnv, *recordingStore, *syncBuffer) {
		store, logs := newRecordingStore(), &syncBuffer{} // audit_test.go
		e := newEnv(t, func(c *restauth.Config) {
			c.Sessions.Store = store
			c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		})
		e.register("vera", goodPassword, "")
		return e, store, logs
	}

	t.Run("load", func(t *testing.T) {
		t.Parallel()
		e, store, logs := setup(t)
		sid := sessionCookie(t, e, "vera").Value
		store.fail(true, false)
		res := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid))
		check(t, res.ResponseRecorder, logs, sid)
	})
	t.Run("save at login", func(t *testing.T) {
		t.Parallel()
		e, store, logs := setup(t)
		store.fail(false, true)
		res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "vera", "password": goodPassword})
		check(t, res.ResponseRecorder, logs, "")
		assert.NotContains(t, res.Body.String(), "key", "the login's own answer does not follow the 503")
	})
	t.Run("save on a host route", func(t *testing.T) {
		t.Parallel()
		e, store, logs := setup(t)
		store.fail(false, true)
		h := e.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.svc.Sessions().Put(r.Context(), "cart", "3 apples")
			w.Header().Set("Content-Length", "8")
			w.WriteHeader(http.StatusCreated)
			_, err := w.Write([]byte("created\n"))
			assert.Error(t, err, "the handler learns its answer was replaced")
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://testserver/app/cart", nil))
		check(t, rec, logs, "")
		assert.NotContains(t, rec.Body.String(), "created")
	})
}

// withSessionID sends the session cookie by hand: a cookie jar would drop it on its
// Expires, rounded to seconds, and these tests are about the server ending the session.
func withSessionID(id string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "sessionid", Value: id}) }
}

// inSessionBubble runs f in a synctest bubble: scs stamps session deadlines with time.Now,
// which the bubble's fake clock drives, so the tests wait without sleeping. f builds its
// testEnv with env, inside the bubble, so the default in-memory session store and its
// cleanup goroutine belong to the bubble; the store is stopped before the bubble ends,
// even when f fails.
func inSessionBubble(t *testing.T, f func(t *testing.T, env func(*testing.T, ...func(*restauth.Config)) *testEnv)) {
	openAPI(t) // the shared validator is built outside the bubble, which must not own it
	synctest.Test(t, func(t *testing.T) {
		var stores []*memstore.MemStore
		var svcs []*restauth.Service
		defer func() {
			synctest.Wait() // each cleanup goroutine is waiting on its ticker
			for _, s := range stores {
				s.StopCleanup()
			}
			for _, s := range svcs {
				_ = s.Close(context.Background()) // the outbox worker belongs to the bubble too
			}
		}()
		f(t, func(t *testing.T, configure ...func(*restauth.Config)) *testEnv {
			e := newEnv(t, configure...)
			svcs = append(svcs, e.svc)
			store, ok := e.svc.Sessions().Store.(*memstore.MemStore)
			require.True(t, ok, "the default session store")
			stores = append(stores, store)
			return e
		})
	})
}

func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	inSessionBubble(t, func(t *testing.T, newEnv func(*testing.T, ...func(*restauth.Config)) *testEnv) {
		const idle = 500 * time.Millisecond
		e := newEnv(t, func(c *restauth.Config) { c.Sessions.IdleTimeout = idle })
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
	})
}

// TestSessionLifetimeIsAbsolute: activity does not stretch Sessions.Lifetime.
func TestSessionLifetimeIsAbsolute(t *testing.T) {
	t.Parallel()
	inSessionBubble(t, func(t *testing.T, newEnv func(*testing.T, ...func(*restauth.Config)) *testEnv) {
		const lifetime = time.Second
		e := newEnv(t, func(c *restauth.Config) {
			c.Sessions.Lifetime = lifetime
			c.Sessions.IdleTimeout = time.Hour
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
		assert.Equal(t, http.StatusUnauthorized, res.Code, "the session has outlived Sessions.Lifetime")
	})
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
