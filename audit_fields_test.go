package restauth_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/otptest"
)

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
	app   *otptest.App // the user's TOTP app (withTOTP)
	codes []string     // the user's recovery codes (withTOTP)
	key   *softKey     // the user's security key or passkey
	token string       // the user's API token (withAlice)
}

// withAlice registers alice with a verified address and an API token.
func withAlice(t *testing.T, f *auditFixture) {
	f.u, f.token = f.e.register("alice", goodPassword, "alice@example.com")
	f.e.verify(t, f.e.addresses(t, f.u.ID)[0].ID)
}

// withTOTP registers alice with TOTP active; the clock is past the activation's step.
func withTOTP(t *testing.T, f *auditFixture) {
	_, f.app, f.codes = f.e.enrol(t, "alice")
	u, err := f.e.store.UserByUsername(t.Context(), "alice")
	require.NoError(t, err)
	f.u = u
}

// auditAct is the action of a TestAuditEventFields case, whose events it reads.
type auditAct func(*testing.T, *auditFixture) error

// The acts of the cases that differ by what the user types: code (nil for none) is the
// second-factor code given, from the fixture.
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

// rightCode is the current TOTP code of the fixture's app, wrongTOTP one that is not.
func rightCode(f *auditFixture) string { return f.app.Code(f.e.clock.Now()) }
func wrongTOTP(f *auditFixture) string { return wrongCode(f.app, f.e.clock.Now()) }

// TestAuditEventFields drives the Service through every login, sign-up and
// re-authentication path and reads the typed fields of the events each emits: the
// method (and second factor) of a login, the reason of a refusal, the rule of a throttle.
func TestAuditEventFields(t *testing.T) {
	t.Parallel()
	const wrong = "not-the-password"
	var (
		tokenIssued = auditFields{Kind: restauth.AuditTokenIssued}
		passwordOK  = auditFields{Kind: restauth.AuditLoginSucceeded, Method: restauth.AuditMethodPassword}
	)
	failed := func(method, reason string) auditFields {
		return auditFields{Kind: restauth.AuditLoginFailed, Method: method, Reason: reason}
	}
	for _, tc := range []struct {
		name      string
		configure []func(*restauth.Config)
		setup     func(*testing.T, *auditFixture)
		act       auditAct
		wantErr   error // nil: act succeeds
		want      []auditFields
	}{
		{
			name: "sign-up with a password",
			act: func(t *testing.T, f *auditFixture) error {
				f.e.register("alice", goodPassword, "alice@example.com")
				return nil
			},
			want: []auditFields{{Kind: restauth.AuditSignedUp, Method: restauth.AuditMethodPassword}, tokenIssued},
		},
		{
			name:  "password login",
			setup: withAlice,
			act:   login(goodPassword, nil),
			want:  []auditFields{passwordOK, tokenIssued},
		},
		{
			name:    "password login refused",
			setup:   withAlice,
			act:     login(wrong, nil),
			wantErr: restauth.ErrInvalidCredentials,
			want:    []auditFields{failed(restauth.AuditMethodPassword, restauth.AuditReasonInvalidCredentials)},
		},
		{
			name:  "basic credentials refused",
			setup: withAlice,
			act: func(t *testing.T, f *auditFixture) error {
				_, err := f.e.svc.AuthenticatePassword(t.Context(), "alice", wrong)
				return err
			},
			wantErr: restauth.ErrInvalidCredentials,
			want:    []auditFields{failed(restauth.AuditMethodBasic, restauth.AuditReasonInvalidCredentials)},
		},
		{
			name: "throttled login",
			configure: []func(*restauth.Config){withLimits(func(l *restauth.RateLimits) {
				l.LoginFailedPerAccount = restauth.RateRule{Limit: 1, Window: time.Minute}
			})},
			setup: func(t *testing.T, f *auditFixture) {
				withAlice(t, f)
				_, err := f.e.svc.Login(t.Context(), restauth.LoginRequest{Username: "alice", Password: wrong})
				require.ErrorIs(t, err, restauth.ErrInvalidCredentials)
			},
			act:     login(goodPassword, nil),
			wantErr: restauth.ErrThrottled,
			want:    []auditFields{{Kind: restauth.AuditThrottled, Rule: restauth.RuleLoginFailedAccount}},
		},
		{
			name:      "mfa required",
			configure: []func(*restauth.Config){withMFA},
			setup:     withTOTP,
			act:       login(goodPassword, nil),
			wantErr:   restauth.ErrMFARequired,
			want:      []auditFields{failed(restauth.AuditMethodPassword, restauth.AuditReasonMFARequired)},
		},
		{
			name:      "token of a user who must enrol",
			configure: []func(*restauth.Config){func(c *restauth.Config) { c.MFA.Enabled, c.MFA.Required = true, true }},
			setup:     withAlice,
			act: func(t *testing.T, f *auditFixture) error {
				res := f.e.do(http.MethodGet, "/api/user/me/", nil, withToken(f.token))
				require.Equal(t, http.StatusForbidden, res.Code, res.Body.String())
				return nil
			},
			want: []auditFields{{Kind: restauth.AuditLoginFailed, Method: restauth.AuditMethodToken, Reason: restauth.AuditReasonMFARequired}},
		},
		{
			name:      "password and recovery code",
			configure: []func(*restauth.Config){withMFA},
			setup:     withTOTP,
			act:       login(goodPassword, func(f *auditFixture) string { return f.codes[0] }),
			want:      []auditFields{{Kind: restauth.AuditLoginSucceeded, Method: restauth.AuditMethodPassword, MFAMethod: restauth.AuditMethodRecoveryCode}, tokenIssued},
		},
		{
			name:      "password and totp via a pending login",
			configure: []func(*restauth.Config){withMFA},
			setup:     withTOTP,
			act:       completeLogin(rightCode),
			want:      []auditFields{{Kind: restauth.AuditLoginSucceeded, Method: restauth.AuditMethodPassword, MFAMethod: restauth.AuditMethodTOTP}},
		},
		{
			name:      "wrong code for a pending login",
			configure: []func(*restauth.Config){withMFA},
			setup:     withTOTP,
			act:       completeLogin(wrongTOTP),
			wantErr:   restauth.ErrInvalidMFACode,
			want:      []auditFields{failed(restauth.AuditMethodMFAPage, restauth.AuditReasonInvalidMFACode)},
		},
		{
			name:      "password and security key via a pending login",
			configure: []func(*restauth.Config){withWebAuthn(false, nil)},
			setup: func(t *testing.T, f *auditFixture) {
				withAlice(t, f)
				f.key, _ = addKey(t, f.e, f.u, "Key", false)
			},
			act: func(t *testing.T, f *auditFixture) error {
				p := pendingLogin(t, f.e, "alice")
				options, state, err := f.e.svc.BeginWebAuthnSecondFactor(t.Context(), p)
				require.NoError(t, err)
				_, err = f.e.svc.CompleteLoginWithWebAuthn(t.Context(), p, state, f.key.Get(t, options))
				return err
			},
			want: []auditFields{{Kind: restauth.AuditLoginSucceeded, Method: restauth.AuditMethodPassword, MFAMethod: restauth.AuditMethodWebAuthn}},
		},
		{
			name:      "passkey login",
			configure: []func(*restauth.Config){withWebAuthn(true, nil)},
			setup: func(t *testing.T, f *auditFixture) {
				withAlice(t, f)
				f.key, _ = addKey(t, f.e, f.u, "Phone", true)
			},
			act: func(t *testing.T, f *auditFixture) error {
				options, state, err := f.e.svc.BeginPasskeyLogin(t.Context())
				require.NoError(t, err)
				_, err = f.e.svc.FinishPasskeyLogin(t.Context(), state, f.key.Get(t, options))
				return err
			},
			want: []auditFields{{Kind: restauth.AuditLoginSucceeded, Method: restauth.AuditMethodPasskey}},
		},
		{
			name:      "passkey sign-up",
			configure: []func(*restauth.Config){withWebAuthn(true, nil)},
			act: func(t *testing.T, f *auditFixture) error {
				options, state, err := f.e.svc.BeginPasskeySignup(t.Context(), verifiedSignup(t, f.e, "nova", "nova@example.com"))
				require.NoError(t, err)
				_, err = f.e.svc.FinishPasskeySignup(t.Context(), state, "Laptop", newSoftKey().Create(t, options))
				return err
			},
			want: []auditFields{
				{Kind: restauth.AuditSignedUp, Method: restauth.AuditMethodPasskey},
				{Kind: restauth.AuditMFAActivated, Method: restauth.AuditMethodWebAuthn},
			},
		},
		{
			name:      "magic link",
			configure: []func(*restauth.Config){func(c *restauth.Config) { c.MagicLink.Enabled = true }},
			setup:     withAlice,
			act: func(t *testing.T, f *auditFixture) error {
				require.NoError(t, f.e.svc.RequestMagicLink(t.Context(), "alice@example.com"))
				m := magicLinkRE.FindStringSubmatch(f.e.lastMailTo(t, "alice@example.com").Text)
				require.NotNil(t, m, "no magic link in the mail")
				link, err := url.Parse(m[1])
				require.NoError(t, err)
				_, err = f.e.svc.MagicLogin(t.Context(), link.Query().Get("sesame"))
				return err
			},
			want: []auditFields{{Kind: restauth.AuditLoginSucceeded, Method: restauth.AuditMethodMagicLink}},
		},
		{
			name:      "login by code",
			configure: []func(*restauth.Config){withCodes},
			setup:     withAlice,
			act:       loginByCode(func(code string) string { return code }),
			want:      []auditFields{{Kind: restauth.AuditLoginSucceeded, Method: restauth.AuditMethodCode}},
		},
		{
			name:      "login by code refused",
			configure: []func(*restauth.Config){withCodes},
			setup:     withAlice,
			act:       loginByCode(otherCode),
			wantErr:   restauth.ErrInvalidCode,
			want:      []auditFields{failed(restauth.AuditMethodCode, restauth.AuditReasonInvalidCode)},
		},
		{
			name:  "reauthenticate with the password",
			setup: withAlice,
			act:   reauthenticate(goodPassword),
			want:  []auditFields{{Kind: restauth.AuditReauthenticated, Method: restauth.AuditMethodPassword}},
		},
		{
			name:    "reauthenticate with a wrong password",
			setup:   withAlice,
			act:     reauthenticate(wrong),
			wantErr: restauth.ErrInvalidCredentials,
			want:    []auditFields{failed(restauth.AuditMethodReauthenticate, restauth.AuditReasonInvalidCredentials)},
		},
		{
			name:      "reauthenticate with totp",
			configure: []func(*restauth.Config){withMFA},
			setup:     withTOTP,
			act:       reauthenticateMFA(rightCode),
			want:      []auditFields{{Kind: restauth.AuditReauthenticated, Method: restauth.AuditMethodTOTP}},
		},
		{
			name:      "reauthenticate with a wrong totp code",
			configure: []func(*restauth.Config){withMFA},
			setup:     withTOTP,
			act:       reauthenticateMFA(wrongTOTP),
			wantErr:   restauth.ErrInvalidMFACode,
			want:      []auditFields{failed(restauth.AuditMethodReauthenticate, restauth.AuditReasonInvalidMFACode)},
		},
		{
			name:      "reauthenticate with a recovery code",
			configure: []func(*restauth.Config){withMFA},
			setup:     withTOTP,
			act:       reauthenticateMFA(func(f *auditFixture) string { return f.codes[0] }),
			want:      []auditFields{{Kind: restauth.AuditReauthenticated, Method: restauth.AuditMethodRecoveryCode}},
		},
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
