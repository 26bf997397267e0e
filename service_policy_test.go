package restauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// The operations own the policy: a host calling the Service directly, with no HTTP at
// all, gets the same throttling, retry time and audit events as POST login/.
func TestServiceAloneOwnsLoginPolicy(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec), func(c *restauth.Config) { c.RateLimits = restauth.DefaultRateLimits() })
	e.register("mallory-target", goodPassword, "")
	rec.take()

	limit := restauth.DefaultRateLimits().LoginFailedPerAccount.Limit
	ctx := restauth.WithClient(context.Background(), restauth.Client{Addr: "198.51.100.4", UserAgent: "cron/1.0"})
	for i := range limit {
		_, err := e.svc.Login(ctx, restauth.LoginRequest{Username: "mallory-target", Password: "wrong-" + string(rune('a'+i))})
		require.ErrorIs(t, err, restauth.ErrInvalidCredentials, "attempt %d", i+1)
	}
	events := rec.take()
	require.Len(t, events, limit)
	for _, ev := range events {
		assert.Equal(t, restauth.AuditLoginFailed, ev.Kind)
		assert.Equal(t, "invalid credentials login="+restauth.LoginDigest(e.svc, "mallory-target"), ev.Detail)
		assert.Empty(t, ev.Username, "the typed name is never kept")
		assert.Equal(t, "198.51.100.4", ev.IP, "the address comes from the context's Client")
		assert.Equal(t, "cron/1.0", ev.UserAgent)
	}

	// The next attempt is refused before the password is looked at, right one included.
	hashes := restauth.HashesComputed(e.svc)
	_, err := e.svc.Login(ctx, restauth.LoginRequest{Username: "mallory-target", Password: goodPassword})
	require.ErrorIs(t, err, restauth.ErrThrottled)
	var throttled *restauth.ThrottledError
	require.True(t, errors.As(err, &throttled))
	assert.Equal(t, restauth.RuleLoginFailedAccount, throttled.Rule)
	assert.Positive(t, throttled.RetryAfterSeconds)
	assert.Equal(t, hashes, restauth.HashesComputed(e.svc), "a throttled attempt costs no hash")
	events = rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditThrottled, events[0].Kind)
	assert.Equal(t, "rule="+restauth.RuleLoginFailedAccount, events[0].Detail)

	// Exactly what POST login/ answers for the same account from the same address now.
	res := e.do("POST", "/api/auth/login/", map[string]any{"username": "mallory-target", "password": goodPassword}, fromIP("198.51.100.4"))
	assert.Equal(t, 429, res.Code)
}

// A direct caller without a Client gets the per-account rules but never a shared
// per-address bucket: failures of one account do not throttle another.
func TestServiceWithoutClientHasNoSharedAddressBucket(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) {
		c.RateLimits = restauth.DefaultRateLimits()
		c.RateLimits.LoginFailedPerAccount.Limit = -1 // only the address rule is under test
	})
	ipLimit := restauth.DefaultRateLimits().LoginFailedPerIP.Limit
	ctx := context.Background()
	for i := range ipLimit + 1 {
		name := "nobody-" + string(rune('a'+i))
		_, err := e.svc.Login(ctx, restauth.LoginRequest{Username: name, Password: "x"})
		require.ErrorIs(t, err, restauth.ErrInvalidCredentials, "no per-address limit without a Client (%s)", name)
	}
	e.register("olive", goodPassword, "")
	_, err := e.svc.Login(ctx, restauth.LoginRequest{Username: "olive", Password: goodPassword})
	require.NoError(t, err)
}
