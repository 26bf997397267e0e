package pgstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
)

// The end-to-end check against PostgreSQL: 100 registrations of one username (in
// different cases) sent at once to the HTTP API give one account (with its address, token
// and session) and 99 clean 400 answers, never a 500 — whether a request loses at the
// Service's early check or at the database's unique index.
func TestConcurrentRegistrationsOverHTTP(t *testing.T) {
	t.Parallel()
	store := newStoreOn(t, newPool(t, func(cfg *pgxpool.Config) { cfg.MaxConns = 40 }))

	counting := &conflictCounter{Store: store}
	svc, err := restauth.New(restauth.Config{
		Store:     counting,
		Secret:    bytes.Repeat([]byte("k"), 32),
		SiteURL:   "http://testserver",
		Passwords: restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1, MaxConcurrentHashes: 100},
		Mail:      restauth.MailConfig{Mailer: restauth.MailerFunc(func(context.Context, *restauth.Message) error { return nil })},
		Sessions:  restauth.SessionConfig{Store: store.SessionStore()},
		// 100 registrations from one test address: the signup and anonymous-body limits
		// would refuse most.
		RateLimits: restauth.RateLimits{SignupPerIP: restauth.RateRule{Limit: -1}, BodyPerIP: restauth.RateRule{Limit: -1}},
		// The winner's token is part of what is checked: the answer that issues one.
		RegistrationTokenAnswer: true,
	})
	require.NoError(t, err)
	h := svc.Handler()

	const n = 100
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		body, err := json.Marshal(map[string]string{
			"username":  caseVariant("registrant", i),
			"email":     fmt.Sprintf("registrant%d@example.com", i),
			"password1": "Vq7#mLp2!xRt",
			"password2": "Vq7#mLp2!xRt",
		})
		require.NoError(t, err)
		wg.Go(func() {
			<-start
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/api/auth/registration/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			codes[i], bodies[i] = rec.Code, rec.Body.String()
		})
	}
	close(start)
	wg.Wait()

	created := 0
	for i, code := range codes {
		switch code {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
			assert.JSONEq(t, `{"username": ["A user with that username already exists."]}`, bodies[i])
		default:
			t.Errorf("registration %d: %d %s", i, code, bodies[i])
		}
	}
	assert.Equal(t, 1, created)
	t.Logf("of %d refused registrations, %d lost at the unique index and %d at the Service's early check", n-1, counting.n.Load(), int64(n-1)-counting.n.Load())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := store.UserByUsername(ctx, "REGISTRANT")
	require.NoError(t, err)
	tokens, err := store.Tokens(ctx, u.ID)
	require.NoError(t, err)
	assert.Len(t, tokens, 1)
	for table, want := range map[string]int{"users": 1, "email_addresses": 1, "api_tokens": 1, "sessions": 1} {
		assert.Equal(t, want, count(t, store, table), table)
	}
}

// conflictCounter counts the registrations the database refused.
type conflictCounter struct {
	*pgstore.Store
	n atomic.Int64
}

func (c *conflictCounter) CreateUser(ctx context.Context, u *restauth.User, e *restauth.EmailAddress) error {
	err := c.Store.CreateUser(ctx, u, e)
	if errors.Is(err, restauth.ErrConflict) {
		c.n.Add(1)
	}
	return err
}
