package restauth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/otptest"
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

// auditFields is what TestAuditEventFields compares of an event: its kind and the typed
// fields hosts (and the telemetry) read instead of Detail.
type auditFields struct {
	Kind                            restauth.AuditKind
	Method, MFAMethod, Reason, Rule string
}

func fieldsOf(events []restauth.AuditEvent) []auditFields {
	out := []auditFields{}
	for _, e := range events {
		out = append(out, auditFields{e.Kind, e.Method, e.MFAMethod, e.Reason, e.Rule})
	}
	return out
}

// auditFixture is what a case of TestAuditEventFields sets up before its action.
type auditFixture struct {
	e     *testEnv
	u     *restauth.User
	token string       // the user's API token
	app   *otptest.App // the user's TOTP app (withTOTP)
	codes []string     // the user's recovery codes (withTOTP)
	key   *softKey     // the user's security key or passkey
}

// The setups of TestAuditEventFields: alice, with a verified address and an API token,
// and what she has besides.

func withAlice(t *testing.T, f *auditFixture) {
	f.u, f.token = f.e.register("alice", goodPassword, "alice@example.com")
	f.e.verify(t, f.e.addresses(t, f.u.ID)[0].ID)
}

// withTOTP enrols alice in TOTP; the clock is past the activation's step.
func withTOTP(t *testing.T, f *auditFixture) {
	_, f.app, f.codes = f.e.enrol(t, "alice")
	u, err := f.e.store.UserByUsername(t.Context(), "alice")
	require.NoError(t, err)
	f.u = u
}

func withSecurityKey(t *testing.T, f *auditFixture) {
	withAlice(t, f)
	f.key, _ = addKey(t, f.e, f.u, "Key", false)
}

func withPasskey(t *testing.T, f *auditFixture) {
	withAlice(t, f)
	f.key, _ = addKey(t, f.e, f.u, "Phone", true)
}

// withFailedLogin spends alice's one failed login (RateLimits.LoginFailedPerAccount 1).
func withFailedLogin(t *testing.T, f *auditFixture) {
	withAlice(t, f)
	require.ErrorIs(t, login("wrong", nil)(t, f), restauth.ErrInvalidCredentials)
}

// auditAct is the action of a TestAuditEventFields case, whose events it reads.
type auditAct func(*testing.T, *auditFixture) error

// The acts of TestAuditEventFields. A code argument is the second-factor code typed,
// from the fixture (nil for none).

func login(password string, code func(*auditFixture) string) auditAct {
	return func(t *testing.T, f *auditFixture) error {
		req := restauth.LoginRequest{Username: "alice", Password: password}
		if code != nil {
			req.MFACode = code(f)
		}
		_, err := f.e.svc.Login(t.Context(), req)
		return err
	}
}

func basicLogin(password string) auditAct {
	return func(t *testing.T, f *auditFixture) error {
		_, err := f.e.svc.AuthenticatePassword(t.Context(), "alice", password)
		return err
	}
}

func completeLogin(code func(*auditFixture) string) auditAct {
	return func(t *testing.T, f *auditFixture) error {
		_, err := f.e.svc.CompleteLogin(t.Context(), pendingLogin(t, f.e, "alice"), code(f))
		return err
	}
}

func reauthenticate(password string) auditAct {
	return func(t *testing.T, f *auditFixture) error {
		_, err := f.e.svc.Reauthenticate(t.Context(), f.u, password)
		return err
	}
}

func reauthenticateMFA(code func(*auditFixture) string) auditAct {
	return func(t *testing.T, f *auditFixture) error {
		_, err := f.e.svc.ReauthenticateMFA(t.Context(), f.u, code(f))
		return err
	}
}

// loginByCode asks for a login code for alice and confirms the code mailed, as typed
// (typed turns the code mailed into the one confirmed).
func loginByCode(typed func(mailed string) string) auditAct {
	return func(t *testing.T, f *auditFixture) error {
		p, err := f.e.svc.RequestLoginCode(t.Context(), "alice@example.com")
		require.NoError(t, err)
		_, err = f.e.svc.ConfirmLoginCode(t.Context(), restauth.LoginCodeConfirm{Pending: *p, Code: typed(f.e.mailedCode(t, "alice@example.com"))})
		return err
	}
}

func signUp(t *testing.T, f *auditFixture) error {
	f.e.register("alice", goodPassword, "alice@example.com")
	return nil
}

// tokenRequest is a request with alice's API token, which MFA.Required refuses.
func tokenRequest(t *testing.T, f *auditFixture) error {
	res := f.e.do(http.MethodGet, "/api/user/me/", nil, withToken(f.token))
	require.Equal(t, http.StatusForbidden, res.Code, res.Body.String())
	return nil
}

func securityKeyLogin(t *testing.T, f *auditFixture) error {
	p := pendingLogin(t, f.e, "alice")
	options, state, err := f.e.svc.BeginWebAuthnSecondFactor(t.Context(), p)
	require.NoError(t, err)
	_, err = f.e.svc.CompleteLoginWithWebAuthn(t.Context(), p, state, f.key.Get(t, options))
	return err
}

func passkeyLogin(t *testing.T, f *auditFixture) error {
	options, state, err := f.e.svc.BeginPasskeyLogin(t.Context())
	require.NoError(t, err)
	_, err = f.e.svc.FinishPasskeyLogin(t.Context(), state, f.key.Get(t, options))
	return err
}

func passkeySignUp(t *testing.T, f *auditFixture) error {
	options, state, err := f.e.svc.BeginPasskeySignup(t.Context(), verifiedSignup(t, f.e, "nova", "nova@example.com"))
	require.NoError(t, err)
	_, err = f.e.svc.FinishPasskeySignup(t.Context(), state, "Laptop", newSoftKey().Create(t, options))
	return err
}

func magicLogin(t *testing.T, f *auditFixture) error {
	require.NoError(t, f.e.svc.RequestMagicLink(t.Context(), "alice@example.com"))
	m := magicLinkRE.FindStringSubmatch(f.e.lastMailTo(t, "alice@example.com").Text)
	require.NotNil(t, m, "no magic link in the mail")
	link, err := url.Parse(m[1])
	require.NoError(t, err)
	_, err = f.e.svc.MagicLogin(t.Context(), link.Query().Get("sesame"))
	return err
}

// The codes typed: the app's current TOTP code, one that is not, the first recovery code.
func rightTOTP(f *auditFixture) string    { return f.app.Code(f.e.clock.Now()) }
func wrongTOTP(f *auditFixture) string    { return wrongCode(f.app, f.e.clock.Now()) }
func recoveryCode(f *auditFixture) string { return f.codes[0] }

// TestAuditEventFields drives the Service through every login, sign-up and
// re-authentication path and reads the typed fields of the events each emits: the
// method (and second factor) of a login, the reason of a refusal, the rule of a throttle.
func TestAuditEventFields(t *testing.T) {
	t.Parallel()
	const wrong = "not-the-password"
	var (
		mfa       = []func(*restauth.Config){withMFA}
		mustEnrol = []func(*restauth.Config){func(c *restauth.Config) { c.MFA.Enabled, c.MFA.Required = true, true }}
		keys      = []func(*restauth.Config){withWebAuthn(false, nil)}
		passkeys  = []func(*restauth.Config){withWebAuthn(true, nil)}
		magic     = []func(*restauth.Config){func(c *restauth.Config) { c.MagicLink.Enabled = true }}
		codes     = []func(*restauth.Config){withCodes}
		oneFailed = []func(*restauth.Config){withLimits(func(l *restauth.RateLimits) {
			l.LoginFailedPerAccount = restauth.RateRule{Limit: 1, Window: time.Minute}
		})}
		token = auditFields{Kind: restauth.AuditTokenIssued}
	)
	ok := func(kind restauth.AuditKind, method, mfaMethod string) auditFields {
		return auditFields{Kind: kind, Method: method, MFAMethod: mfaMethod}
	}
	failed := func(method, reason string) auditFields {
		return auditFields{Kind: restauth.AuditLoginFailed, Method: method, Reason: reason}
	}
	const (
		succeeded, signedUp, reauth = restauth.AuditLoginSucceeded, restauth.AuditSignedUp, restauth.AuditReauthenticated
		password, totp              = restauth.AuditMethodPassword, restauth.AuditMethodTOTP
	)
	for _, tc := range []struct {
		name      string
		configure []func(*restauth.Config)
		setup     func(*testing.T, *auditFixture)
		act       auditAct
		wantErr   error // nil: act succeeds
		want      []auditFields
	}{
		{"sign-up with a password", nil, nil, signUp, nil, []auditFields{ok(signedUp, password, ""), token}},
		{"password login", nil, withAlice, login(goodPassword, nil), nil, []auditFields{ok(succeeded, password, ""), token}},
		{"password login refused", nil, withAlice, login(wrong, nil), restauth.ErrInvalidCredentials, []auditFields{failed(password, restauth.AuditReasonInvalidCredentials)}},
		{"basic credentials refused", nil, withAlice, basicLogin(wrong), restauth.ErrInvalidCredentials, []auditFields{failed(restauth.AuditMethodBasic, restauth.AuditReasonInvalidCredentials)}},
		{"throttled login", oneFailed, withFailedLogin, login(goodPassword, nil), restauth.ErrThrottled, []auditFields{{Kind: restauth.AuditThrottled, Rule: restauth.RuleLoginFailedAccount}}},
		{"mfa required", mfa, withTOTP, login(goodPassword, nil), restauth.ErrMFARequired, []auditFields{failed(password, restauth.AuditReasonMFARequired)}},
		{"token of a user who must enrol", mustEnrol, withAlice, tokenRequest, nil, []auditFields{failed(restauth.AuditMethodToken, restauth.AuditReasonMFARequired)}},
		{"password and recovery code", mfa, withTOTP, login(goodPassword, recoveryCode), nil, []auditFields{ok(succeeded, password, restauth.AuditMethodRecoveryCode), token}},
		{"password and totp via a pending login", mfa, withTOTP, completeLogin(rightTOTP), nil, []auditFields{ok(succeeded, password, totp)}},
		{"wrong code for a pending login", mfa, withTOTP, completeLogin(wrongTOTP), restauth.ErrInvalidMFACode, []auditFields{failed(restauth.AuditMethodMFAPage, restauth.AuditReasonInvalidMFACode)}},
		{"password and security key via a pending login", keys, withSecurityKey, securityKeyLogin, nil, []auditFields{ok(succeeded, password, restauth.AuditMethodWebAuthn)}},
		{"passkey login", passkeys, withPasskey, passkeyLogin, nil, []auditFields{ok(succeeded, restauth.AuditMethodPasskey, "")}},
		{"passkey sign-up", passkeys, nil, passkeySignUp, nil, []auditFields{ok(signedUp, restauth.AuditMethodPasskey, ""), ok(restauth.AuditMFAActivated, restauth.AuditMethodWebAuthn, "")}},
		{"magic link", magic, withAlice, magicLogin, nil, []auditFields{ok(succeeded, restauth.AuditMethodMagicLink, "")}},
		{"login by code", codes, withAlice, loginByCode(func(code string) string { return code }), nil, []auditFields{ok(succeeded, restauth.AuditMethodCode, "")}},
		{"login by code refused", codes, withAlice, loginByCode(otherCode), restauth.ErrInvalidCode, []auditFields{failed(restauth.AuditMethodCode, restauth.AuditReasonInvalidCode)}},
		{"reauthenticate with the password", nil, withAlice, reauthenticate(goodPassword), nil, []auditFields{ok(reauth, password, "")}},
		{"reauthenticate with a wrong password", nil, withAlice, reauthenticate(wrong), restauth.ErrInvalidCredentials, []auditFields{failed(restauth.AuditMethodReauthenticate, restauth.AuditReasonInvalidCredentials)}},
		{"reauthenticate with totp", mfa, withTOTP, reauthenticateMFA(rightTOTP), nil, []auditFields{ok(reauth, totp, "")}},
		{"reauthenticate with a wrong totp code", mfa, withTOTP, reauthenticateMFA(wrongTOTP), restauth.ErrInvalidMFACode, []auditFields{failed(restauth.AuditMethodReauthenticate, restauth.AuditReasonInvalidMFACode)}},
		{"reauthenticate with a recovery code", mfa, withTOTP, reauthenticateMFA(recoveryCode), nil, []auditFields{ok(reauth, restauth.AuditMethodRecoveryCode, "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &auditRecorder{}
			f := &auditFixture{e: newEnv(t, append(tc.configure, withAudit(rec))...)}
			if tc.setup != nil {
				tc.setup(t, f)
			}
			rec.take()
			err := tc.act(t, f)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			assert.Equal(t, tc.want, fieldsOf(rec.take()))
		})
	}
}

// TestAuditDefaultLogNamesFields: without Config.Audit the log line carries the typed
// fields after Detail, and only those that are set.
func TestAuditDefaultLogNamesFields(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	e := newEnv(t, withLimits(func(l *restauth.RateLimits) {
		l.LoginFailedPerAccount = restauth.RateRule{Limit: 1, Window: time.Minute}
	}), func(c *restauth.Config) { c.Logger = slog.New(slog.NewTextHandler(&buf, nil)) })
	e.register("bob", goodPassword, "")
	assert.Contains(t, buf.String(), `kind=signed_up user_id=1 username=bob ip="" detail="method=password" method=password`+"\n")
	assert.Contains(t, buf.String(), `kind=token_issued user_id=1 username=bob ip="" detail="token_id=1"`+"\n", "no empty fields")

	login := map[string]any{"username": "bob", "password": "wrong-password-123"}
	require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", login, fromIP("192.0.2.9")).Code)
	assertThrottled(t, e.do(http.MethodPost, "/api/auth/login/", login, fromIP("192.0.2.9")))
	out := buf.String()
	assert.Contains(t, out, `detail="invalid credentials login=`+restauth.LoginDigest(e.svc, "bob")+`" method=password reason="invalid credentials"`+"\n")
	assert.Contains(t, out, `kind=throttled user_id=0 username="" ip=192.0.2.9 detail="rule=`+restauth.RuleLoginFailedAccount+`" rule=`+restauth.RuleLoginFailedAccount+"\n")
}
