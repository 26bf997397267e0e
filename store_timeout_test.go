package restauth_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// deadlineStore is a memstore that records, for the calls the token, login and
// registration paths make, whether their context had a deadline (Config.StoreTimeout),
// and that can make chosen methods hang like a frozen database until the context ends.
type deadlineStore struct {
	*memstore.Store
	mu       sync.Mutex
	calls    int
	without  []string // methods called without a deadline
	blocking map[string]bool
}

func (s *deadlineStore) check(ctx context.Context, method string) error {
	s.mu.Lock()
	s.calls++
	if _, ok := ctx.Deadline(); !ok {
		s.without = append(s.without, method)
	}
	block := s.blocking[method]
	s.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err() // what a driver returns when the deadline cuts a query short
	}
	return nil
}

func (s *deadlineStore) block(methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range methods {
		s.blocking[m] = true
	}
}

// reset forgets the calls so far (those of operations called directly, which run under
// the caller's context only).
func (s *deadlineStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.without = 0, nil
}

func (s *deadlineStore) report() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]string(nil), s.without...)
}

func (s *deadlineStore) CreateUser(ctx context.Context, u *restauth.User, e *restauth.EmailAddress) error {
	if err := s.check(ctx, "CreateUser"); err != nil {
		return err
	}
	return s.Store.CreateUser(ctx, u, e)
}

func (s *deadlineStore) UserByID(ctx context.Context, id int64) (*restauth.User, error) {
	if err := s.check(ctx, "UserByID"); err != nil {
		return nil, err
	}
	return s.Store.UserByID(ctx, id)
}

func (s *deadlineStore) UserByUsername(ctx context.Context, username string) (*restauth.User, error) {
	if err := s.check(ctx, "UserByUsername"); err != nil {
		return nil, err
	}
	return s.Store.UserByUsername(ctx, username)
}

func (s *deadlineStore) CreateToken(ctx context.Context, tok *restauth.APIToken) error {
	if err := s.check(ctx, "CreateToken"); err != nil {
		return err
	}
	return s.Store.CreateToken(ctx, tok)
}

func (s *deadlineStore) TokenByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	if err := s.check(ctx, "TokenByHash"); err != nil {
		return nil, err
	}
	return s.Store.TokenByHash(ctx, hash)
}

func (s *deadlineStore) EmailAddresses(ctx context.Context, userID int64) ([]restauth.EmailAddress, error) {
	if err := s.check(ctx, "EmailAddresses"); err != nil {
		return nil, err
	}
	return s.Store.EmailAddresses(ctx, userID)
}

func newDeadlineEnv(t *testing.T, timeout time.Duration) (*testEnv, *deadlineStore, *syncBuffer) {
	store := &deadlineStore{Store: memstore.New(), blocking: map[string]bool{}}
	logs := &syncBuffer{} // audit_test.go
	e := newEnv(t, func(c *restauth.Config) {
		c.Store = store
		c.StoreTimeout = timeout
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	return e, store, logs
}

// hostHandler is a host route behind Middleware; it reports whether its own context has
// a deadline, which it must not get from restauth.
func hostHandler(e *testEnv) http.Handler {
	return e.svc.Middleware(restauth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Deadline(); ok {
			http.Error(w, "deadline", http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})))
}

// TestStoreCallsCarryTheRequestDeadline checks that every store call of the 291 routes
// and of Middleware's authentication runs under Config.StoreTimeout's deadline (the
// default one here), and that the host's own handler does not inherit it.
func TestStoreCallsCarryTheRequestDeadline(t *testing.T) {
	t.Parallel()
	e, store, _ := newDeadlineEnv(t, 0)
	_, key := e.register("alice", goodPassword, "alice@example.com")
	require.NotEmpty(t, key)
	store.reset()

	res := e.do(http.MethodPost, "/api/auth/registration/", map[string]string{
		"username": "alicia", "email": "alicia@example.com", "password1": goodPassword, "password2": goodPassword,
	})
	require.Equal(t, http.StatusNoContent, res.Code, res.Body.String())
	for _, path := range []string{"/api/auth/user/", "/api/auth/emails/", "/api/user/me/"} {
		res := e.do(http.MethodGet, path, nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code, path+": "+res.Body.String())
	}
	res = e.do(http.MethodPost, "/api/auth/login/", map[string]string{"username": "alice", "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())

	host := hostHandler(e)
	for _, opt := range []reqOpt{withToken(key), withBasic("alice", goodPassword)} {
		rec := httptest.NewRecorder()
		host.ServeHTTP(rec, newRequest(http.MethodGet, "/app/things", nil, opt))
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	}

	calls, without := store.report()
	assert.Greater(t, calls, 8)
	assert.Empty(t, without, "store calls without a deadline")
}

// TestStoreTimeoutDisabled: -1 sets no deadline of restauth's own.
func TestStoreTimeoutDisabled(t *testing.T) {
	t.Parallel()
	e, store, _ := newDeadlineEnv(t, -1)
	_, key := e.register("bob", goodPassword, "")
	store.reset()
	res := e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	calls, without := store.report()
	require.Positive(t, calls)
	assert.Len(t, without, calls, "no call may have a deadline")
}

// TestStoreTimeoutAnswers503 freezes one store method: the request ends at the deadline
// with 503, Retry-After and the 291 shape, and the timeout is logged.
func TestStoreTimeoutAnswers503(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		block  string
		method string
		path   string
		body   any
		auth   func(key string) []reqOpt
		host   bool
	}{
		{
			name: "token authentication", block: "TokenByHash",
			method: http.MethodGet, path: "/api/auth/user/",
			auth: func(key string) []reqOpt { return []reqOpt{withToken(key)} },
		},
		{
			name: "a token route's own work", block: "EmailAddresses",
			method: http.MethodGet, path: "/api/auth/emails/",
			auth: func(key string) []reqOpt { return []reqOpt{withToken(key)} },
		},
		{
			name: "login, inside the session manager", block: "UserByUsername",
			method: http.MethodPost, path: "/api/auth/login/",
			body: map[string]string{"username": "carol", "password": goodPassword},
			auth: func(string) []reqOpt { return nil },
		},
		{
			name: "Middleware", block: "TokenByHash", host: true,
			method: http.MethodGet, path: "/app/things",
			auth: func(key string) []reqOpt { return []reqOpt{withToken(key)} },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, store, logs := newDeadlineEnv(t, 50*time.Millisecond)
			_, key := e.register("carol", goodPassword, "carol@example.com")
			require.NotEmpty(t, key)
			store.block(tc.block)

			var code int
			var header http.Header
			var body []byte
			if tc.host {
				rec := httptest.NewRecorder()
				hostHandler(e).ServeHTTP(rec, newRequest(tc.method, tc.path, nil, tc.auth(key)...))
				code, header, body = rec.Code, rec.Header(), rec.Body.Bytes()
			} else {
				res := e.do(tc.method, tc.path, tc.body, tc.auth(key)...)
				code, header, body = res.Code, res.Header(), res.Body.Bytes()
			}
			require.Equal(t, http.StatusServiceUnavailable, code, string(body))
			assert.NotEmpty(t, header.Get("Retry-After"))
			assert.Equal(t, []string{"application/json"}, header.Values("Content-Type"))
			var detail map[string]string
			require.NoError(t, json.Unmarshal(body, &detail))
			assert.NotEmpty(t, detail["detail"])
			assert.NotEqual(t, "Request cancelled.", detail["detail"])
			assert.Contains(t, logs.String(), "restauth: store timeout")
		})
	}
}

// TestClientCancellationIsNotAStoreTimeout: a client that goes away is not the store's
// fault and is not logged as an outage.
func TestClientCancellationIsNotAStoreTimeout(t *testing.T) {
	t.Parallel()
	e, store, logs := newDeadlineEnv(t, 0)
	_, key := e.register("dave", goodPassword, "")
	store.block("TokenByHash")

	ctx, cancel := context.WithCancel(context.Background())
	req := newRequest(http.MethodGet, "/api/auth/user/", nil, withToken(key)).WithContext(ctx)
	cancel()
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "Request cancelled.")
	assert.NotContains(t, logs.String(), "store timeout")
}
