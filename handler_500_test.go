package restauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/oatest"
	"github.com/restauth/restauth/memstore"
)

// secretSQL stands for what a real store error may hold: SQL, credentials, row data.
const secretSQL = "secret-sql-text"

// failingStore is a memstore whose chosen lookups fail like a database that went down.
// A cancelled request gets its context's error instead, as a real driver would answer.
type failingStore struct {
	*memstore.Store
	mu   sync.Mutex
	fail map[string]bool
}

func (s *failingStore) failing(ctx context.Context, method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fail[method] {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("db down: " + secretSQL + ": SELECT password FROM auth_user")
}

// failOn makes the named methods fail from now on.
func (s *failingStore) failOn(methods ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range methods {
		s.fail[m] = true
	}
}

func (s *failingStore) UserByUsername(ctx context.Context, username string) (*restauth.User, error) {
	if err := s.failing(ctx, "UserByUsername"); err != nil {
		return nil, err
	}
	return s.Store.UserByUsername(ctx, username)
}

func (s *failingStore) TokenByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	if err := s.failing(ctx, "TokenByHash"); err != nil {
		return nil, err
	}
	return s.Store.TokenByHash(ctx, hash)
}

func (s *failingStore) EmailAddresses(ctx context.Context, userID int64) ([]restauth.EmailAddress, error) {
	if err := s.failing(ctx, "EmailAddresses"); err != nil {
		return nil, err
	}
	return s.Store.EmailAddresses(ctx, userID)
}

// TestStoreFailureAnswers500 checks InvenTree's 500 shape with restauth's values: exactly
// the five fields, the request's path, and never the store error's text, which goes to
// the log instead. Every answer also goes through the contract check (e.do).
func TestStoreFailureAnswers500(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fail   []string
		method string
		path   string
		body   any
		auth   func(key string) []reqOpt
	}{
		{
			name: "login", fail: []string{"UserByUsername"},
			method: http.MethodPost, path: "/api/auth/login/",
			body: map[string]string{"username": "alice", "password": "correct-horse-9"},
			auth: func(string) []reqOpt { return nil },
		},
		{
			name: "token authentication", fail: []string{"TokenByHash"},
			method: http.MethodGet, path: "/api/auth/user/",
			auth: func(key string) []reqOpt { return []reqOpt{withToken(key)} },
		},
		{
			name: "token authentication of an OPTIONS request", fail: []string{"TokenByHash"},
			method: http.MethodOptions, path: "/api/user/me/",
			auth: func(key string) []reqOpt { return []reqOpt{withToken(key)} },
		},
		{
			name: "e-mail addresses", fail: []string{"EmailAddresses"},
			method: http.MethodGet, path: "/api/auth/emails/",
			auth: func(key string) []reqOpt { return []reqOpt{withToken(key)} },
		},
		{
			name: "e-mail addresses, paginated", fail: []string{"EmailAddresses"},
			method: http.MethodGet, path: "/api/auth/emails/?limit=1",
			auth: func(key string) []reqOpt { return []reqOpt{withToken(key)} },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := &failingStore{Store: memstore.New(), fail: map[string]bool{}}
			logs := &syncBuffer{} // audit_test.go
			e := newEnv(t, func(c *restauth.Config) {
				c.Store = store
				c.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
			_, key := e.register("alice", "correct-horse-9", "alice@example.com")
			require.NotEmpty(t, key)
			store.failOn(tc.fail...)

			res := e.do(tc.method, tc.path, tc.body, tc.auth(key)...)
			require.Equal(t, http.StatusInternalServerError, res.Code, res.Body.String())
			assert.Equal(t, []string{"application/json"}, res.Header().Values("Content-Type"))
			assert.NotContains(t, res.Body.String(), secretSQL)
			assert.NotContains(t, res.Body.String(), "db down")

			var body map[string]any
			require.NoError(t, json.Unmarshal(res.Body.Bytes(), &body))
			assert.Equal(t, map[string]any{
				"error":       "ServerError",
				"error_class": "<class 'restauth.ServerError'>",
				"detail":      "Error details can be found in the server log",
				"path":        res.req.URL.Path,
				"status_code": float64(500),
			}, body)
			assert.NotContains(t, body["path"], "?", "the path has no query")

			// "Error details can be found in the server log" is true.
			assert.Contains(t, logs.String(), secretSQL)
			assert.Contains(t, logs.String(), res.req.URL.Path)
		})
	}
}

// TestCancelledRequestAnswers503: when the client has gone away, the store's context error
// is answered 503 {"detail": "Request cancelled."}, as the document says.
func TestCancelledRequestAnswers503(t *testing.T) {
	t.Parallel()
	store := &failingStore{Store: memstore.New(), fail: map[string]bool{}}
	e := newEnv(t, func(c *restauth.Config) { c.Store = store })
	e.register("alice", "correct-horse-9", "alice@example.com")
	store.failOn("UserByUsername")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := e.do(http.MethodPost, "/api/auth/login/",
		map[string]string{"username": "alice", "password": "correct-horse-9"},
		func(r *http.Request) { *r = *r.WithContext(ctx) })
	require.Equal(t, http.StatusServiceUnavailable, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"detail": "Request cancelled."}, res.JSON(t))
}

// TestOpenAPIDocuments5xxEverywhere: every operation, OPTIONS included, answers 500 and
// 503 through the shared components, so the two answers are described once.
func TestOpenAPIDocuments5xxEverywhere(t *testing.T) {
	t.Parallel()
	raw := restauth.OpenAPI()
	doc, err := oatest.Parse(raw)
	require.NoError(t, err)

	want := map[string]string{
		"500": "#/components/responses/ServerError",
		"503": "#/components/responses/ServiceUnavailable",
	}
	ops := 0
	for path, item := range doc.Paths.Map() {
		if path == "/auth/" {
			continue // the reverse-proxy check answers bare statuses (TestOpenAPIPathsAndOperations)
		}
		for method, op := range item.Operations() {
			ops++
			where := method + " " + path
			codes, err := oatest.Keys(raw, "paths", path, strings.ToLower(method), "responses")
			require.NoError(t, err, where)
			assert.True(t, slices.IsSorted(codes), "%s: codes in order: %v", where, codes)
			for code, ref := range want {
				res := op.Responses.Value(code)
				if assert.NotNil(t, res, "%s must document %s", where, code) {
					assert.Equal(t, ref, res.Ref, "%s %s", where, code)
				}
			}
		}
	}
	assert.Greater(t, ops, 50)

	schema := doc.Components.Schemas["ServerErrorBody"]
	require.NotNil(t, schema)
	assert.ElementsMatch(t, []string{"error", "error_class", "detail", "path", "status_code"}, schema.Value.Required)
	assert.Len(t, schema.Value.Properties, 5)
}
