package restauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// auditRecorder is a Config.Audit that keeps every event.
type auditRecorder struct {
	mu     sync.Mutex
	events []restauth.AuditEvent
	all    []restauth.AuditEvent
}

func (a *auditRecorder) record(_ context.Context, e restauth.AuditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	a.all = append(a.all, e)
}

// take returns the events since the last take.
func (a *auditRecorder) take() []restauth.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.events
	a.events = nil
	return out
}

// takeKinds returns the kinds of the events since the last take.
func (a *auditRecorder) takeKinds() []restauth.AuditKind {
	var kinds []restauth.AuditKind
	for _, e := range a.take() {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func withAudit(rec *auditRecorder) func(*restauth.Config) {
	return func(c *restauth.Config) { c.Audit = rec.record }
}

func TestAuditEvents(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec))
	const email = "alice@example.com"
	u, regKey := e.register("alice", goodPassword, email)
	// The operations own their events: Register called directly emits what the route
	// would, without a client address (the context names no Client).
	events := rec.take()
	require.Len(t, events, 2, "Service operations called directly emit their events too")
	assert.Equal(t, restauth.AuditSignedUp, events[0].Kind)
	assert.Equal(t, "method=password", events[0].Detail)
	assert.Equal(t, restauth.AuditTokenIssued, events[1].Kind)
	for _, ev := range events {
		assert.Equal(t, u.ID, ev.UserID)
		assert.Empty(t, ev.IP, "no Client in the context: no address")
	}
	ip := fromIP("192.0.2.7")

	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "alice", "password": goodPassword}, ip)
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	loginKey := res.JSON(t)["key"].(string)
	events = rec.take()
	require.Len(t, events, 2)
	assert.Equal(t, restauth.AuditLoginSucceeded, events[0].Kind)
	assert.Equal(t, restauth.AuditTokenIssued, events[1].Kind)
	for _, ev := range events {
		assert.Equal(t, u.ID, ev.UserID)
		assert.Equal(t, "alice", ev.Username)
		assert.Equal(t, "192.0.2.7", ev.IP)
		assert.Equal(t, e.clock.Now(), ev.Time)
	}

	const wrong = "not-the-password"
	res = e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "alice", "password": wrong}, ip)
	require.Equal(t, http.StatusBadRequest, res.Code)
	events = rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditLoginFailed, events[0].Kind)
	assert.Equal(t, int64(0), events[0].UserID)
	// Deliberate reversal (security issue #16 finding 11): the typed name is never kept,
	// only its keyed hash, which still correlates the failures of one name.
	assert.Empty(t, events[0].Username)
	assert.Equal(t, "invalid credentials login="+restauth.LoginDigest(e.svc, "alice"), events[0].Detail)
	assert.Equal(t, "192.0.2.7", events[0].IP)

	// Failed Basic credentials on any route are failed logins too.
	res = e.do(http.MethodGet, "/api/user/me/", nil, withBasic("alice", wrong))
	require.Equal(t, http.StatusUnauthorized, res.Code)
	assert.Equal(t, []restauth.AuditKind{restauth.AuditLoginFailed}, rec.takeKinds())

	res = e.do(http.MethodGet, "/api/user/token/?name=cli", nil, withToken(loginKey))
	require.Equal(t, http.StatusOK, res.Code)
	cliKey := res.JSON(t)["token"].(string)
	events = rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditTokenIssued, events[0].Kind)
	require.True(t, strings.HasPrefix(events[0].Detail, "token_id="), events[0].Detail)
	tokenID := strings.TrimPrefix(events[0].Detail, "token_id=")

	res = e.do(http.MethodDelete, "/api/user/tokens/"+tokenID+"/", nil, withToken(loginKey))
	require.Equal(t, http.StatusNoContent, res.Code, res.Body.String())
	events = rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditTokenRevoked, events[0].Kind)
	assert.Equal(t, "token_id="+tokenID, events[0].Detail)

	const newPassword = "brand-new-secret-9"
	res = e.do(http.MethodPost, "/api/auth/password/change/", map[string]any{
		"old_password": goodPassword, "new_password1": newPassword, "new_password2": newPassword,
	}, withToken(loginKey))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, []restauth.AuditKind{restauth.AuditPasswordChanged}, rec.takeKinds())

	res = e.do(http.MethodPost, "/api/auth/logout/", nil, withToken(loginKey))
	require.Equal(t, http.StatusOK, res.Code)
	events = rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditLogout, events[0].Kind)
	assert.Equal(t, u.ID, events[0].UserID)

	// No event carries a secret or the e-mail address.
	secrets := []string{goodPassword, wrong, newPassword, regKey, loginKey, cliKey, email}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ev := range rec.all {
		for _, field := range []string{ev.Username, ev.IP, ev.Detail, string(ev.Kind)} {
			for _, s := range secrets {
				assert.NotContains(t, field, s, "event %+v", ev)
			}
		}
	}
}

func TestAuditEmailAndPasswordReset(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec))
	u, key := e.register("carol", goodPassword, "carol@example.com")
	require.Equal(t, []restauth.AuditKind{restauth.AuditSignedUp, restauth.AuditTokenIssued}, rec.takeKinds())

	const second = "carol.work@example.com"
	res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": second}, withToken(key))
	require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
	addrID := int64(res.JSON(t)["id"].(float64))
	events := rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditEmailAdded, events[0].Kind)
	assert.Equal(t, u.ID, events[0].UserID)
	assert.Equal(t, "email_address_id="+strconv.FormatInt(addrID, 10), events[0].Detail)

	msgs := e.mailer.Messages()
	confirm := confirmationKey(t, msgs[len(msgs)-1])
	res = e.do(http.MethodPost, "/api/auth/registration/verify-email/", map[string]any{"key": confirm}, withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	events = rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditEmailVerified, events[0].Kind)
	assert.Equal(t, u.ID, events[0].UserID)

	uid, token := e.requestReset(t, second, len(msgs)+1)
	require.Equal(t, http.StatusOK, e.confirmReset(uid, token).Code)
	events = rec.take()
	require.Len(t, events, 1)
	assert.Equal(t, restauth.AuditPasswordReset, events[0].Kind)
	assert.Equal(t, u.ID, events[0].UserID)
	assert.Equal(t, "carol", events[0].Username)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, ev := range rec.all {
		for _, field := range []string{ev.Username, ev.IP, ev.Detail} {
			for _, s := range []string{"@example.com", confirm, token, key, newPassword, goodPassword} {
				assert.NotContains(t, field, s, "event %+v", ev)
			}
		}
	}
}

func TestAuditThrottled(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withAudit(rec), withLimits(func(l *restauth.RateLimits) {
		l.LoginFailedPerIP = restauth.RateRule{Limit: 1, Window: time.Minute}
	}))
	wrong := map[string]any{"username": "ghost", "password": "guess"}
	require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", wrong, fromIP("198.51.100.4")).Code)
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/login/", wrong, fromIP("198.51.100.4")))
	events := rec.take()
	require.Len(t, events, 2)
	assert.Equal(t, restauth.AuditLoginFailed, events[0].Kind)
	assert.Equal(t, restauth.AuditThrottled, events[1].Kind)
	assert.Equal(t, "198.51.100.4", events[1].IP)
	assert.Equal(t, "rule="+restauth.RuleLoginFailedIP, events[1].Detail)
}

func TestAuditDefaultsToLogger(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	e := newEnv(t, func(c *restauth.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	})
	e.register("bob", goodPassword, "")
	const wrong = "wrong-password-123"
	require.Equal(t, http.StatusBadRequest,
		e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "bob", "password": wrong}, fromIP("192.0.2.9")).Code)
	out := buf.String()
	assert.Contains(t, out, `level=INFO msg="restauth: audit" kind=login_failed user_id=0 username="" ip=192.0.2.9 detail="invalid credentials login=`+restauth.LoginDigest(e.svc, "bob")+`"`)
	assert.NotContains(t, out, wrong)
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
