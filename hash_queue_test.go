package restauth_test

import (
	"context"
	"net/http"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// TestHashQueueFullAnswers503 fills the only hashing slot and the one-place queue with
// blocked work, then checks that logins (for a known and an unknown user alike, so the
// answer reveals no account) and registrations are refused at once with 503 and
// Retry-After instead of queueing, that the operations return ErrBusy, and that the
// queued login still succeeds once the slot frees. Nothing here waits on the clock.
func TestHashQueueFullAnswers503(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) {
		c.Passwords.MaxConcurrentHashes = 1
		c.Passwords.MaxQueuedHashes = 1
		c.Passwords.MaxHashWait = -1 // only the queue bound refuses here
	})
	e.register("alice", "correct horse battery", "alice@example.com")
	assert.Zero(t, e.svc.HashQueueDepth())

	release, err := restauth.HoldHashSlot(e.svc)
	require.NoError(t, err)
	queued := make(chan response, 1)
	go func() {
		queued <- e.do(http.MethodPost, "/api/auth/login/", map[string]string{"username": "alice", "password": "correct horse battery"})
	}()
	for e.svc.HashQueueDepth() < 1 { // until the login above waits for the slot
		select {
		case res := <-queued:
			t.Fatalf("the login did not queue: %d %s", res.Code, res.Body.String())
		default:
			runtime.Gosched()
		}
	}
	hashes := restauth.HashesComputed(e.svc)

	for _, tc := range []struct {
		name, path string
		body       map[string]string
	}{
		{"known user", "/api/auth/login/", map[string]string{"username": "alice", "password": "correct horse battery"}},
		{"known user, wrong password", "/api/auth/login/", map[string]string{"username": "alice", "password": "wrong"}},
		{"unknown user", "/api/auth/login/", map[string]string{"username": "nobody", "password": "correct horse battery"}},
		{"registration", "/api/auth/registration/", map[string]string{"username": "bob", "password1": "correct horse battery", "password2": "correct horse battery"}},
	} {
		res := e.do(http.MethodPost, tc.path, tc.body)
		assert.Equal(t, http.StatusServiceUnavailable, res.Code, tc.name)
		assert.Equal(t, "1", res.Header().Get("Retry-After"), tc.name)
		assert.Equal(t, map[string]any{"detail": "Service temporarily unavailable, try again later."}, res.JSON(t), tc.name)
	}
	_, err = e.svc.Login(context.Background(), restauth.LoginRequest{Username: "nobody", Password: "x"})
	assert.ErrorIs(t, err, restauth.ErrBusy, "Login of an unknown user")
	_, err = e.svc.Login(context.Background(), restauth.LoginRequest{Username: "alice", Password: "x"})
	assert.ErrorIs(t, err, restauth.ErrBusy, "Login of a known user")
	assert.Equal(t, hashes, restauth.HashesComputed(e.svc), "a refusal hashes nothing")
	assert.Equal(t, 1, e.svc.HashQueueDepth(), "refused callers never joined the queue")

	release()
	res := <-queued
	assert.Equal(t, http.StatusOK, res.Code, "the queued login proceeds: %s", res.Body.String())
	assert.Zero(t, e.svc.HashQueueDepth())
}
