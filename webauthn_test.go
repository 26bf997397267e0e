package restauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/webauthntest"
)

// The WebAuthn tests drive the operations with a software authenticator
// (github.com/descope/virtualwebauthn), written independently of go-webauthn.

const (
	webauthnSite   = "https://example.com"
	webauthnRPID   = "example.com"
	webauthnOrigin = "https://example.com"
)

// auditLog keeps the audit events of a Service.
type auditLog struct {
	mu     sync.Mutex
	events []restauth.AuditEvent
}

func (l *auditLog) record(_ context.Context, e restauth.AuditEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// has reports whether an event of kind whose detail contains detail was recorded.
func (l *auditLog) has(kind restauth.AuditKind, detail string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if e.Kind == kind && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// ofKind is the recorded events of kind, in order.
func (l *auditLog) ofKind(kind restauth.AuditKind) []restauth.AuditEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []restauth.AuditEvent
	for _, e := range l.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// withWebAuthn turns WebAuthn on with the site as the relying party; passkeys adds passkey
// login and signup.
func withWebAuthn(passkeys bool, audit *auditLog) func(*restauth.Config) {
	return func(cfg *restauth.Config) {
		cfg.SiteURL = webauthnSite
		cfg.MFA.Enabled = true
		cfg.WebAuthn.Enabled = true
		cfg.WebAuthn.PasskeyLogin = passkeys
		cfg.WebAuthn.PasskeySignup = passkeys
		if audit != nil {
			cfg.Audit = audit.record
		}
	}
}

// softKey is one credential on a software authenticator (internal/webauthntest).
type softKey = webauthntest.SoftKey

func newSoftKey() *softKey { return webauthntest.NewSoftKey(webauthnRPID, webauthnOrigin) }

// addKey registers a key (a passkey when passkey is set) for u and returns it.
func addKey(t *testing.T, e *testEnv, u *restauth.User, name string, passkey bool) (*softKey, *restauth.WebAuthnAdded) {
	t.Helper()
	k := newSoftKey()
	options, state, err := e.svc.BeginWebAuthnRegistration(recentCtx(t, e, u), u, passkey)
	require.NoError(t, err)
	added, err := e.svc.FinishWebAuthnRegistration(recentCtx(t, e, u), u, state, name, k.Create(t, options))
	require.NoError(t, err)
	return k, added
}

// recentCtx is a context with a session logged in as u just now: the credential changes
// ask for a recent authentication.
func recentCtx(t *testing.T, e *testEnv, u *restauth.User) context.Context {
	t.Helper()
	ctx, err := e.svc.Sessions().Load(t.Context(), "")
	require.NoError(t, err)
	require.NoError(t, e.svc.LoginSession(ctx, u, e.svc.NewAuthRecord("password")))
	return ctx
}

// pendingLogin logs u in with the password, leaving the second factor due.
func pendingLogin(t *testing.T, e *testEnv, username string) restauth.PendingLogin {
	t.Helper()
	res, err := e.svc.Login(t.Context(), restauth.LoginRequest{Username: username, Password: goodPassword, Defer: true})
	require.NoError(t, err)
	require.NotNil(t, res.Pending, "a user with a key has a second step")
	return *res.Pending
}

func TestWebAuthnRegistrationListRenameRemove(t *testing.T) {
	t.Parallel()
	audit := &auditLog{}
	e := newEnv(t, withWebAuthn(false, audit))
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	verifyAll(t, e, u)

	options, _, err := e.svc.BeginWebAuthnRegistration(recentCtx(t, e, u), u, false)
	require.NoError(t, err)
	var opts map[string]map[string]any
	require.NoError(t, json.Unmarshal(options, &opts), "options are JSON for navigator.credentials.create")
	pk := opts["publicKey"]
	assert.Equal(t, webauthnRPID, pk["rp"].(map[string]any)["id"])
	assert.Equal(t, "preferred", pk["authenticatorSelection"].(map[string]any)["userVerification"])
	assert.Equal(t, base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(u.ID, 10))), pk["user"].(map[string]any)["id"],
		"the user handle is the id, as allauth makes it")

	k, added := addKey(t, e, u, "  Yubikey  ", false)
	assert.Equal(t, "Yubikey", added.Credential.Name)
	assert.Len(t, added.RecoveryCodes, 10, "the first authenticator comes with recovery codes")
	assert.True(t, audit.has(restauth.AuditMFAActivated, "method=webauthn"))
	assert.True(t, hasMail(e, "kim@example.com", "Security Key Added"))

	_, second := addKey(t, e, u, "Backup", true)
	assert.Nil(t, second.RecoveryCodes, "only the first authenticator makes codes")
	assert.True(t, second.Credential.Passkey)

	// The same authenticator again is refused.
	options, state, err := e.svc.BeginWebAuthnRegistration(recentCtx(t, e, u), u, false)
	require.NoError(t, err)
	_, err = e.svc.FinishWebAuthnRegistration(recentCtx(t, e, u), u, state, "again", k.Create(t, options))
	require.ErrorIs(t, err, restauth.ErrWebAuthnRefused)

	list, err := e.svc.ListWebAuthnCredentials(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	renamed, err := e.svc.RenameWebAuthnCredential(recentCtx(t, e, u), u, list[0].ID, "Blue key")
	require.NoError(t, err)
	assert.Equal(t, "Blue key", renamed.Name)
	_, err = e.svc.RenameWebAuthnCredential(recentCtx(t, e, u), u, list[0].ID, " ")
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Contains(t, verr.Fields, "name")

	other, _ := e.register("lee", goodPassword, "lee@example.com")
	require.ErrorIs(t, e.svc.RemoveWebAuthnCredentials(recentCtx(t, e, other), other, []int64{list[0].ID}), restauth.ErrNotFound,
		"another user's credential")

	require.NoError(t, e.svc.RemoveWebAuthnCredentials(recentCtx(t, e, u), u, []int64{list[0].ID}))
	st, err := e.svc.RecoveryCodesStatus(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, 10, st.Remaining, "an authenticator is left: the codes stay")
	require.NoError(t, e.svc.RemoveWebAuthnCredentials(recentCtx(t, e, u), u, []int64{list[1].ID}))
	st, err = e.svc.RecoveryCodesStatus(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Zero(t, st.Total, "the last authenticator takes the recovery codes with it")
	assert.True(t, audit.has(restauth.AuditMFADeactivated, "method=webauthn"))
	assert.True(t, hasMail(e, "kim@example.com", "Security Key Removed"))
}

func TestWebAuthnChangesNeedRecentAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(true, nil))
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	lee, _ := e.register("lee", goodPassword, "lee@example.com")
	_, added := addKey(t, e, u, "Key", false)
	options, state, err := e.svc.BeginWebAuthnRegistration(recentCtx(t, e, u), u, true)
	require.NoError(t, err)
	stale := recentCtx(t, e, u)
	e.clock.Advance(time.Hour) // past Config.ReauthenticationTimeout
	for name, ctx := range map[string]context.Context{
		"no session":        t.Context(),
		"another's session": recentCtx(t, e, lee),
		"an old login":      stale,
	} {
		_, _, err := e.svc.BeginWebAuthnRegistration(ctx, u, false)
		requireReauth(t, err, name)
		_, err = e.svc.FinishWebAuthnRegistration(ctx, u, state, "Phone", newSoftKey().Create(t, options))
		requireReauth(t, err, name)
		_, err = e.svc.RenameWebAuthnCredential(ctx, u, added.Credential.ID, "Blue key")
		requireReauth(t, err, name)
		requireReauth(t, e.svc.RemoveWebAuthnCredentials(ctx, u, []int64{added.Credential.ID}), name)
	}
	list, err := e.svc.ListWebAuthnCredentials(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, list, 1, "nothing changed")
	assert.Equal(t, "Key", list[0].Name)
}

// requireReauth asserts err is the refusal of a session that is not recent.
func requireReauth(t *testing.T, err error, msg string) {
	t.Helper()
	var perr *restauth.PermissionError
	require.ErrorAs(t, err, &perr, msg)
	require.ErrorIs(t, err, restauth.ErrReauthenticationRequired, msg)
}

func TestWebAuthnLastAuthenticatorUnderMFARequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(false, nil), func(c *restauth.Config) { c.MFA.Required = true })
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	_, added := addKey(t, e, u, "Key", false)
	var perr *restauth.PermissionError
	require.ErrorAs(t, e.svc.RemoveWebAuthnCredentials(recentCtx(t, e, u), u, []int64{added.Credential.ID}), &perr)
}

func TestWebAuthnSecondFactorAfterPassword(t *testing.T) {
	t.Parallel()
	audit := &auditLog{}
	e := newEnv(t, withWebAuthn(false, audit))
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	k, added := addKey(t, e, u, "Key", false)

	_, err := e.svc.Login(t.Context(), restauth.LoginRequest{Username: "kim", Password: goodPassword})
	require.ErrorIs(t, err, restauth.ErrMFARequired, "a key is a second factor: the password alone is not enough")

	p := pendingLogin(t, e, "kim")
	options, state, err := e.svc.BeginWebAuthnSecondFactor(t.Context(), p)
	require.NoError(t, err)
	res, err := e.svc.CompleteLoginWithWebAuthn(t.Context(), p, state, k.Get(t, options))
	require.NoError(t, err)
	assert.Equal(t, u.ID, res.User.ID)
	assert.Equal(t, "webauthn", res.MFAMethod)
	assert.True(t, audit.has(restauth.AuditLoginSucceeded, "method=password+webauthn"))

	list, err := e.svc.ListWebAuthnCredentials(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), list[0].SignCount)
	assert.Equal(t, e.clock.Now().UTC(), list[0].LastUsed)

	// A recovery code also finishes the login of a user whose only factor is a key.
	p = pendingLogin(t, e, "kim")
	res, err = e.svc.CompleteLogin(t.Context(), p, added.RecoveryCodes[0])
	require.NoError(t, err)
	assert.Equal(t, "recovery_code", res.MFAMethod)
	_, err = e.svc.CompleteLogin(t.Context(), pendingLogin(t, e, "kim"), "123456")
	require.ErrorIs(t, err, restauth.ErrInvalidMFACode, "no TOTP device: no TOTP code is right")
}

// TestWebAuthnRefusedAssertions runs refused second-factor assertions: answer turns the
// options of a fresh Begin into the browser's answer.
func TestWebAuthnRefusedAssertions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		wants []error
		// answer returns the response (and the state to finish with) from the options
		// and state of a fresh Begin.
		answer func(t *testing.T, e *testEnv, p restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState)
	}{
		{"replayed assertion, same state", []error{restauth.ErrWebAuthnChallengeExpired},
			func(t *testing.T, e *testEnv, p restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				resp := k.Get(t, options)
				_, err := e.svc.CompleteLoginWithWebAuthn(t.Context(), p, state, resp)
				require.NoError(t, err)
				return resp, state
			}},
		{"replayed assertion, new challenge", []error{restauth.ErrWebAuthnRefused, restauth.ErrInvalidMFACode},
			func(t *testing.T, e *testEnv, p restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				resp := k.Get(t, options)
				_, err := e.svc.CompleteLoginWithWebAuthn(t.Context(), p, state, resp)
				require.NoError(t, err)
				_, fresh, err := e.svc.BeginWebAuthnSecondFactor(t.Context(), p)
				require.NoError(t, err)
				return resp, fresh
			}},
		{"cross-origin assertion", []error{restauth.ErrWebAuthnRefused},
			func(t *testing.T, _ *testEnv, _ restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				k.RP.Origin = "https://evil.example"
				return k.Get(t, options), state
			}},
		{"wrong relying party id", []error{restauth.ErrWebAuthnRefused},
			func(t *testing.T, _ *testEnv, _ restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				k.RP.ID = "evil.example"
				return k.Get(t, options), state
			}},
		{"another key", []error{restauth.ErrWebAuthnRefused},
			func(t *testing.T, _ *testEnv, _ restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				k.Cred = webauthntest.NewEC2Credential()
				return k.Get(t, options), state
			}},
		{"malformed response", []error{restauth.ErrWebAuthnRefused},
			func(_ *testing.T, _ *testEnv, _ restauth.PendingLogin, _ *softKey, _ []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				return []byte(`{"id": 1}`), state
			}},
		{"expired challenge", []error{restauth.ErrWebAuthnChallengeExpired},
			func(t *testing.T, e *testEnv, _ restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				e.clock.Advance(5 * time.Minute)
				return k.Get(t, options), state
			}},
		{"state of another ceremony", []error{restauth.ErrWebAuthnChallengeExpired},
			func(t *testing.T, e *testEnv, p restauth.PendingLogin, k *softKey, options []byte, _ restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				u, err := e.store.UserByID(t.Context(), p.UserID)
				require.NoError(t, err)
				_, reauth, err := e.svc.BeginWebAuthnReauthentication(t.Context(), u)
				require.NoError(t, err)
				return k.Get(t, options), reauth
			}},
		{"tampered state", []error{restauth.ErrWebAuthnChallengeExpired},
			func(t *testing.T, _ *testEnv, _ restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				b := []byte(state)
				b[len(b)/2] ^= 1
				return k.Get(t, options), restauth.WebAuthnState(b)
			}},
		{"cloned key: the counter goes back", []error{restauth.ErrWebAuthnRefused, restauth.ErrWebAuthnCloned},
			func(t *testing.T, e *testEnv, p restauth.PendingLogin, k *softKey, options []byte, state restauth.WebAuthnState) ([]byte, restauth.WebAuthnState) {
				k.Cred.Counter = 41
				_, err := e.svc.CompleteLoginWithWebAuthn(t.Context(), p, state, k.Get(t, options))
				require.NoError(t, err)
				options, state, err = e.svc.BeginWebAuthnSecondFactor(t.Context(), p)
				require.NoError(t, err)
				k.Cred.Counter = 10 // the clone signs with an older counter
				return k.Get(t, options), state
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			audit := &auditLog{}
			e := newEnv(t, withWebAuthn(false, audit))
			u, _ := e.register("kim", goodPassword, "kim@example.com")
			k, _ := addKey(t, e, u, "Key", false)
			p := pendingLogin(t, e, "kim")
			options, state, err := e.svc.BeginWebAuthnSecondFactor(t.Context(), p)
			require.NoError(t, err)
			resp, state := tt.answer(t, e, p, k, options, state)
			res, err := e.svc.CompleteLoginWithWebAuthn(t.Context(), p, state, resp)
			require.Error(t, err)
			assert.Nil(t, res)
			for _, want := range tt.wants {
				assert.ErrorIs(t, err, want)
			}
			if tt.name == "cloned key: the counter goes back" {
				// One event for the clone, under the second factor's method (it was
				// audited twice, the first time with no method, counted as a password).
				failed := audit.ofKind(restauth.AuditLoginFailed)
				require.Len(t, failed, 1)
				assert.Contains(t, failed[0].Detail, "cloned webauthn credential")
				assert.Equal(t, restauth.AuditReasonClonedWebAuthnCredential, failed[0].Reason)
				assert.Equal(t, restauth.AuditMethodMFAPage, failed[0].Method)
			}
		})
	}
}

func TestPasskeyLogin(t *testing.T) {
	t.Parallel()
	audit := &auditLog{}
	e := newEnv(t, withWebAuthn(true, audit))
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	k, _ := addKey(t, e, u, "Phone", true)

	options, state, err := e.svc.BeginPasskeyLogin(t.Context())
	require.NoError(t, err)
	var opts map[string]map[string]any
	require.NoError(t, json.Unmarshal(options, &opts))
	assert.Empty(t, opts["publicKey"]["allowCredentials"], "a passkey login names no user")
	res, err := e.svc.FinishPasskeyLogin(t.Context(), state, k.Get(t, options))
	require.NoError(t, err)
	assert.Equal(t, u.ID, res.User.ID)
	assert.Equal(t, "webauthn", res.MFAMethod)
	assert.True(t, audit.has(restauth.AuditLoginSucceeded, "method=passkey"))

	// The same assertion and state again.
	_, err = e.svc.FinishPasskeyLogin(t.Context(), state, k.Get(t, options))
	require.ErrorIs(t, err, restauth.ErrWebAuthnChallengeExpired)
}

func TestPasskeyLoginRefusesAnotherUsersHandle(t *testing.T) {
	t.Parallel()
	audit := &auditLog{}
	e := newEnv(t, withWebAuthn(true, audit))
	kim, _ := e.register("kim", goodPassword, "kim@example.com")
	lee, _ := e.register("lee", goodPassword, "lee@example.com")
	k, _ := addKey(t, e, kim, "Phone", true)
	addKey(t, e, lee, "Phone", true)

	options, state, err := e.svc.BeginPasskeyLogin(t.Context())
	require.NoError(t, err)
	k.Auth.Options.UserHandle = []byte(strconv.FormatInt(lee.ID, 10))
	res, err := e.svc.FinishPasskeyLogin(t.Context(), state, k.Get(t, options))
	require.ErrorIs(t, err, restauth.ErrWebAuthnRefused)
	assert.Nil(t, res)
	assert.True(t, audit.has(restauth.AuditLoginFailed, "invalid webauthn credential method=passkey"))
}

func TestPasskeyLoginOffByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(false, nil))
	_, _, err := e.svc.BeginPasskeyLogin(t.Context())
	require.ErrorIs(t, err, restauth.ErrPasskeyLoginDisabled)
	_, _, err = e.svc.BeginPasskeySignup(t.Context(), restauth.VerifiedSignup{Username: "new", Email: "new@example.com"})
	require.ErrorIs(t, err, restauth.ErrPasskeyLoginDisabled)
	_, err = e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: "new", Email: "new@example.com"})
	require.ErrorIs(t, err, restauth.ErrPasskeyLoginDisabled)

	off := newEnv(t)
	u, _ := off.register("kim", goodPassword, "kim@example.com")
	_, _, err = off.svc.BeginWebAuthnRegistration(t.Context(), u, false)
	require.ErrorIs(t, err, restauth.ErrWebAuthnDisabled)
}

func TestWebAuthnReauthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(false, nil))
	u, _ := e.register("kim", goodPassword, "kim@example.com")
	k, _ := addKey(t, e, u, "Key", false)
	options, state, err := e.svc.BeginWebAuthnReauthentication(t.Context(), u)
	require.NoError(t, err)
	require.NoError(t, e.svc.FinishWebAuthnReauthentication(t.Context(), u, state, k.Get(t, options)))

	other, _ := e.register("lee", goodPassword, "lee@example.com")
	options, state, err = e.svc.BeginWebAuthnReauthentication(t.Context(), u)
	require.NoError(t, err)
	require.ErrorIs(t, e.svc.FinishWebAuthnReauthentication(t.Context(), other, state, k.Get(t, options)),
		restauth.ErrWebAuthnChallengeExpired, "a state is bound to its user")
}

func TestWebAuthnFailedAssertionsAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(true, nil), func(c *restauth.Config) {
		c.RateLimits.WebAuthnFailedPerIP = restauth.RateRule{Limit: 3, Window: time.Minute}
	})
	ctx := restauth.WithClient(t.Context(), restauth.Client{Addr: "203.0.113.9"})
	k := newSoftKey() // registered nowhere
	for i := range 3 {
		options, state, err := e.svc.BeginPasskeyLogin(ctx)
		require.NoError(t, err)
		_, err = e.svc.FinishPasskeyLogin(ctx, state, k.Get(t, options))
		require.ErrorIs(t, err, restauth.ErrWebAuthnRefused, "attempt %d", i)
	}
	options, state, err := e.svc.BeginPasskeyLogin(ctx)
	require.NoError(t, err)
	_, err = e.svc.FinishPasskeyLogin(ctx, state, k.Get(t, options))
	require.ErrorIs(t, err, restauth.ErrThrottled)
}

func TestWebAuthnKeepsRecoveryCodesWhenTOTPGoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(false, nil), func(c *restauth.Config) { c.MFA.Required = true })
	_, app, codes := e.enrol(t, "kim")
	u, err := e.store.UserByUsername(t.Context(), "kim")
	require.NoError(t, err)
	_, added := addKey(t, e, u, "Key", false)
	assert.Nil(t, added.RecoveryCodes, "TOTP came first and made the codes")
	auths, err := e.svc.Authenticators(t.Context(), u.ID)
	require.NoError(t, err)
	assert.True(t, auths.TOTP)
	assert.Len(t, auths.WebAuthn, 1)
	require.NoError(t, e.svc.DeactivateTOTP(t.Context(), u, restauth.MFAProof{Code: app.Code(e.clock.Now())}),
		"allowed under MFA.Required: the key stays")
	auths, err = e.svc.Authenticators(t.Context(), u.ID)
	require.NoError(t, err)
	assert.False(t, auths.TOTP)
	assert.True(t, auths.Enabled())
	st, err := e.svc.RecoveryCodesStatus(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, len(codes), st.Remaining, "the key still protects the account: its codes stay")
	_, err = e.svc.Login(t.Context(), restauth.LoginRequest{Username: "kim", Password: goodPassword})
	require.ErrorIs(t, err, restauth.ErrMFARequired)
}

func TestWebAuthnConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		set  func(*restauth.Config)
	}{
		{"WebAuthn without MFA", func(c *restauth.Config) { c.WebAuthn.Enabled = true }},
		{"passkey login without WebAuthn", func(c *restauth.Config) { c.MFA.Enabled, c.WebAuthn.PasskeyLogin = true, true }},
		{"passkey signup without passkey login", func(c *restauth.Config) {
			c.MFA.Enabled, c.WebAuthn.Enabled, c.WebAuthn.PasskeySignup = true, true, true
		}},
		{"an IP address as the relying party", func(c *restauth.Config) {
			c.SiteURL, c.MFA.Enabled, c.WebAuthn.Enabled = "http://127.0.0.1:8000", true, true
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := restauth.Config{Store: nil, Secret: testSecret, SiteURL: webauthnSite}
			cfg.Store = newEnv(t).store
			tt.set(&cfg)
			_, err := restauth.New(cfg)
			require.ErrorIs(t, err, restauth.ErrConfig)
		})
	}
}

// verifyAll marks u's addresses verified, so that security notices reach them.
func verifyAll(t *testing.T, e *testEnv, u *restauth.User) {
	t.Helper()
	addrs, err := e.store.EmailAddresses(t.Context(), u.ID)
	require.NoError(t, err)
	for _, a := range addrs {
		_, err := e.store.VerifyEmailAddress(t.Context(), a.ID, true)
		require.NoError(t, err)
	}
}

// hasMail reports whether a mail to to with subject containing subject was sent.
func hasMail(e *testEnv, to, subject string) bool {
	for _, m := range e.mailer.Messages() {
		if strings.Contains(m.Subject, subject) && strings.Contains(strings.Join(m.To, ","), to) {
			return true
		}
	}
	return false
}
