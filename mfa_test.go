package restauth_test

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// scanOTPAuthURL loads an otpauth:// URI into a test authenticator app (internal/otptest,
// written independently of the library's TOTP code).
func scanOTPAuthURL(t testing.TB, raw string) *otptest.App {
	t.Helper()
	app, err := otptest.Scan(raw)
	require.NoError(t, err)
	return app
}

func withMFA(cfg *restauth.Config) { cfg.MFA.Enabled = true }

const (
	totpPath     = "/api/auth/mfa/totp/"
	recoveryPath = "/api/auth/mfa/recovery-codes/"
	loginPath    = "/api/auth/login/"
)

var mfaRequiredBody = map[string]any{"detail": "MFA required for this user"}

// enrol registers username, activates TOTP for them over HTTP and returns their token,
// their app and their recovery codes. The clock then moves to the next step, since the
// activation code's step is spent.
func (e *testEnv) enrol(t *testing.T, username string) (string, *otptest.App, []string) {
	t.Helper()
	_, key := e.register(username, goodPassword, username+"@example.com")
	res := e.do(http.MethodGet, totpPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
	res = e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	var codes []string
	for _, c := range res.JSON(t)["recovery_codes"].([]any) {
		codes = append(codes, c.(string))
	}
	e.clock.Advance(30 * time.Second)
	return key, app, codes
}

func (e *testEnv) mfaLogin(username, code string) response {
	e.t.Helper()
	body := map[string]any{"username": username, "password": goodPassword}
	if code != "" {
		body["mfa_code"] = code
	}
	return e.do(http.MethodPost, loginPath, body)
}

func tokenCount(t *testing.T, e *testEnv, userID int64) int {
	t.Helper()
	toks, err := e.store.Tokens(context.Background(), userID)
	require.NoError(t, err)
	return len(toks)
}

func TestMFAEnrolActivateAndLogIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	u, key := e.register("mona", goodPassword, "mona@example.com")

	res := e.do(http.MethodGet, totpPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	pending := res.JSON(t)
	assert.Equal(t, false, pending["active"])
	assert.Regexp(t, `^[A-Z2-7]{32}$`, pending["secret"])
	assert.Contains(t, pending["otpauth_url"], "otpauth://totp/testserver:mona?")
	stale := scanOTPAuthURL(t, pending["otpauth_url"].(string))

	// Each GET starts a new secret: one read by someone else before is dead.
	again := e.do(http.MethodGet, totpPath, nil, withToken(key)).JSON(t)
	assert.NotEqual(t, pending["secret"], again["secret"])
	app := scanOTPAuthURL(t, again["otpauth_url"].(string))
	if stale.Code(e.clock.Now()) != app.Code(e.clock.Now()) {
		res = e.do(http.MethodPost, totpPath, map[string]any{"code": stale.Code(e.clock.Now())}, withToken(key))
		require.Equal(t, http.StatusBadRequest, res.Code, "the replaced secret cannot be activated")
	}

	// Not active yet: logins need no code.
	require.Equal(t, http.StatusOK, e.mfaLogin("mona", "").Code)

	wrong := e.do(http.MethodPost, totpPath, map[string]any{"code": "000000"}, withToken(key))
	if app.Code(e.clock.Now()) != "000000" {
		require.Equal(t, http.StatusBadRequest, wrong.Code)
		assert.Equal(t, map[string]any{"code": []any{"Incorrect code."}}, wrong.JSON(t))
	}
	missing := e.do(http.MethodPost, totpPath, map[string]any{}, withToken(key))
	require.Equal(t, http.StatusBadRequest, missing.Code)
	assert.Equal(t, map[string]any{"code": []any{"This field is required."}}, missing.JSON(t))

	res = e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	activated := res.JSON(t)
	assert.Equal(t, true, activated["active"])
	codes := activated["recovery_codes"].([]any)
	require.Len(t, codes, 10)
	unique := map[any]bool{}
	for _, c := range codes {
		assert.Regexp(t, `^[a-z2-7]{5}-[a-z2-7]{5}$`, c)
		unique[c] = true
	}
	assert.Len(t, unique, 10)

	status := e.do(http.MethodGet, totpPath, nil, withToken(key)).JSON(t)
	assert.Equal(t, map[string]any{"active": true}, status, "the secret is never shown again")
	res = e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"TOTP is already active."}}, res.JSON(t))

	// The password alone no longer logs in, and leaves no token behind.
	before := tokenCount(t, e, u.ID)
	res = e.mfaLogin("mona", "")
	require.Equal(t, http.StatusForbidden, res.Code)
	assert.Equal(t, mfaRequiredBody, res.JSON(t))
	assert.Equal(t, before, tokenCount(t, e, u.ID))

	// The activation code's step is spent: the next step's code logs in.
	e.clock.Advance(30 * time.Second)
	code := app.Code(e.clock.Now())
	res = e.mfaLogin("mona", code)
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	newKey := res.JSON(t)["key"].(string)
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withToken(newKey)).Code)

	// Replayed within its window: refused.
	res = e.mfaLogin("mona", code)
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"mfa_code": []any{"Incorrect code."}}, res.JSON(t))
}

func TestMFACodeWindowAndReplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// offset is where the app's clock is relative to the server's.
		offset time.Duration
		status int
	}{
		{"app a step behind", -30 * time.Second, http.StatusOK},
		{"in step", 0, http.StatusOK},
		{"app a step ahead", 30 * time.Second, http.StatusOK},
		{"app two steps behind", -60 * time.Second, http.StatusBadRequest},
		{"app two steps ahead", 60 * time.Second, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withMFA)
			_, app, _ := e.enrol(t, "nils")
			e.clock.Advance(2 * time.Minute) // well clear of the activation step
			res := e.mfaLogin("nils", app.Code(e.clock.Now().Add(tc.offset)))
			assert.Equal(t, tc.status, res.Code, res.Body.String())
		})
	}

	t.Run("an older code after a newer one", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withMFA)
		_, app, _ := e.enrol(t, "olga")
		e.clock.Advance(2 * time.Minute)
		now := e.clock.Now()
		require.Equal(t, http.StatusOK, e.mfaLogin("olga", app.Code(now.Add(30*time.Second))).Code)
		assert.Equal(t, http.StatusBadRequest, e.mfaLogin("olga", app.Code(now)).Code,
			"a code of an earlier step than the last one used is refused")
		e.clock.Advance(60 * time.Second)
		assert.Equal(t, http.StatusOK, e.mfaLogin("olga", app.Code(e.clock.Now())).Code)
	})

	t.Run("concurrent logins with one code", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withMFA)
		_, app, _ := e.enrol(t, "pia")
		code := app.Code(e.clock.Now())
		var wg sync.WaitGroup
		statuses := make([]int, 20)
		for i := range statuses {
			wg.Go(func() {
				req := newRequest(http.MethodPost, loginPath, map[string]any{"username": "pia", "password": goodPassword, "mfa_code": code})
				// From distinct addresses: the per-address limits are not what this pins.
				req.RemoteAddr = "198.51.100." + strconv.Itoa(i+1) + ":5555"
				rec := httptest.NewRecorder()
				e.mux.ServeHTTP(rec, req)
				statuses[i] = rec.Code
			})
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			} else {
				assert.Equal(t, http.StatusBadRequest, s)
			}
		}
		assert.Equal(t, 1, ok, "a code logs in once")
	})
}

func TestMFARecoveryCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	key, app, codes := e.enrol(t, "quin")

	st := e.do(http.MethodGet, recoveryPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, st.Code)
	assert.Equal(t, map[string]any{"total": float64(10), "remaining": float64(10)}, st.JSON(t))

	// Typed the way people type: capitals, no dash.
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", ""))
	require.Equal(t, http.StatusOK, e.mfaLogin("quin", typed).Code)
	res := e.mfaLogin("quin", codes[0])
	require.Equal(t, http.StatusBadRequest, res.Code, "a recovery code works once")
	assert.Equal(t, map[string]any{"mfa_code": []any{"Incorrect code."}}, res.JSON(t))
	assert.Equal(t, float64(9), e.do(http.MethodGet, recoveryPath, nil, withToken(key)).JSON(t)["remaining"])

	// Regeneration needs a proof.
	res = e.do(http.MethodPost, recoveryPath, map[string]any{}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"Enter a current code or your password."}}, res.JSON(t))
	res = e.do(http.MethodPost, recoveryPath, map[string]any{"password": "not-the-password"}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"password": []any{"Incorrect password."}}, res.JSON(t))
	res = e.do(http.MethodPost, recoveryPath, map[string]any{"code": "123456"}, withToken(key))
	if app.Code(e.clock.Now()) != "123456" {
		require.Equal(t, http.StatusBadRequest, res.Code)
		assert.Equal(t, map[string]any{"code": []any{"Incorrect code."}}, res.JSON(t))
	}

	res = e.do(http.MethodPost, recoveryPath, map[string]any{"password": goodPassword}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	body := res.JSON(t)
	assert.Equal(t, float64(10), body["total"])
	assert.Equal(t, float64(10), body["remaining"])
	fresh := body["codes"].([]any)
	require.Len(t, fresh, 10)
	for _, old := range codes {
		assert.NotContains(t, fresh, old)
	}

	// Every old code is gone, used or not; a new one works.
	assert.Equal(t, http.StatusBadRequest, e.mfaLogin("quin", codes[1]).Code, "regenerating invalidates old codes")
	assert.Equal(t, http.StatusOK, e.mfaLogin("quin", fresh[3].(string)).Code)

	// A current TOTP code is also a proof.
	res = e.do(http.MethodPost, recoveryPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, http.StatusBadRequest, e.mfaLogin("quin", fresh[4].(string)).Code)
}

func TestMFADeactivate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	key, app, codes := e.enrol(t, "rita")

	tests := []struct {
		name   string
		body   map[string]any
		status int
		want   map[string]any
	}{
		{"no proof", map[string]any{}, http.StatusBadRequest, map[string]any{"non_field_errors": []any{"Enter a current code or your password."}}},
		{"wrong password", map[string]any{"password": "wrong-password"}, http.StatusBadRequest, map[string]any{"password": []any{"Incorrect password."}}},
		{"unknown recovery code", map[string]any{"code": "aaaaa-aaaaa"}, http.StatusBadRequest, map[string]any{"code": []any{"Incorrect code."}}},
	}
	for _, tc := range tests {
		res := e.do(http.MethodDelete, totpPath, tc.body, withToken(key))
		require.Equal(t, tc.status, res.Code, tc.name)
		assert.Equal(t, tc.want, res.JSON(t), tc.name)
	}
	assert.Equal(t, http.StatusForbidden, e.mfaLogin("rita", "").Code, "still active after failed attempts")

	res := e.do(http.MethodDelete, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusNoContent, res.Code, res.Body.String())
	assert.Empty(t, res.Body.Bytes())

	assert.Equal(t, http.StatusOK, e.mfaLogin("rita", "").Code, "the password alone logs in again")
	assert.Equal(t, map[string]any{"total": float64(0), "remaining": float64(0)},
		e.do(http.MethodGet, recoveryPath, nil, withToken(key)).JSON(t), "recovery codes went with the device")
	res = e.do(http.MethodDelete, totpPath, map[string]any{"code": codes[0]}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"TOTP is not active."}}, res.JSON(t))
	res = e.do(http.MethodPost, recoveryPath, map[string]any{"password": goodPassword}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"TOTP is not active."}}, res.JSON(t))

	// Re-enrolling gives a new secret.
	pending := e.do(http.MethodGet, totpPath, nil, withToken(key)).JSON(t)
	assert.Equal(t, false, pending["active"])
	assert.NotEqual(t, app.Key, scanOTPAuthURL(t, pending["otpauth_url"].(string)).Key)

	t.Run("by password", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withMFA)
		key, _, _ := e.enrol(t, "sven")
		require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, totpPath, map[string]any{"password": goodPassword}, withToken(key)).Code)
		assert.Equal(t, http.StatusOK, e.mfaLogin("sven", "").Code)
	})
}

func TestMFARequiredForcesEnrolment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA, func(cfg *restauth.Config) { cfg.MFA.Required = true })
	e.register("tess", goodPassword, "tess@example.com")
	basic := withBasic("tess", goodPassword)

	providers := e.do(http.MethodGet, "/api/auth/providers/", nil).JSON(t)
	assert.Equal(t, true, providers["mfa_required"])
	assert.Equal(t, true, providers["mfa_enabled"])

	// Not enrolled: no login, and Basic only reaches the enrolment routes.
	res := e.mfaLogin("tess", "")
	require.Equal(t, http.StatusForbidden, res.Code)
	assert.Equal(t, mfaRequiredBody, res.JSON(t))
	assert.Equal(t, http.StatusForbidden, e.mfaLogin("tess", "123456").Code, "a code is no use before enrolment")
	res = e.do(http.MethodGet, "/api/auth/user/", nil, basic)
	require.Equal(t, http.StatusForbidden, res.Code)
	assert.Equal(t, mfaRequiredBody, res.JSON(t))

	res = e.do(http.MethodGet, totpPath, nil, basic)
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, basic).Code)

	e.clock.Advance(30 * time.Second)
	res = e.mfaLogin("tess", app.Code(e.clock.Now()))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	key := res.JSON(t)["key"].(string)

	// Enrolled: Basic is refused even on the enrolment routes, and MFA cannot be switched off.
	assert.Equal(t, http.StatusForbidden, e.do(http.MethodGet, totpPath, nil, basic).Code)
	res = e.do(http.MethodDelete, totpPath, map[string]any{"password": goodPassword}, withToken(key))
	require.Equal(t, http.StatusForbidden, res.Code)
	assert.Equal(t, map[string]any{"detail": "MFA is required for every user; it cannot be deactivated."}, res.JSON(t))
}

func TestMFABasicAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		allowBasic bool
		enrolled   bool
		status     int
	}{
		{"user without MFA", false, false, http.StatusOK},
		{"user with MFA", false, true, http.StatusForbidden},
		{"user with MFA, Basic allowed", true, true, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withMFA, func(cfg *restauth.Config) { cfg.MFA.AllowBasic = tc.allowBasic })
			if tc.enrolled {
				e.enrol(t, "ugo")
			} else {
				e.register("ugo", goodPassword, "ugo@example.com")
			}
			res := e.do(http.MethodGet, "/api/auth/user/", nil, withBasic("ugo", goodPassword))
			assert.Equal(t, tc.status, res.Code, res.Body.String())
			res = e.do(http.MethodGet, "/api/user/token/", nil, withBasic("ugo", goodPassword))
			assert.Equal(t, tc.status, res.Code, "the token route is no way around the second factor")

			// The host app's routes behind Middleware follow the same rule.
			h := e.svc.Middleware(restauth.RequireUser(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusOK)
			})))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, newRequest(http.MethodGet, "/api/part/", nil, withBasic("ugo", goodPassword)))
			assert.Equal(t, tc.status, rec.Code)
		})
	}
}

func TestMFAWrongCodesAreRateLimited(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withMFA, withAudit(rec), func(cfg *restauth.Config) {
		cfg.RateLimits = noRateLimits()
		cfg.RateLimits.LoginFailedPerAccount = restauth.RateRule{Limit: 5, Window: 5 * time.Minute}
	})
	key, app, _ := e.enrol(t, "vera")
	wrong := "000000"
	if app.Code(e.clock.Now()) == wrong || app.Code(e.clock.Now().Add(-30*time.Second)) == wrong || app.Code(e.clock.Now().Add(30*time.Second)) == wrong {
		wrong = "999999"
	}
	for i := range 5 {
		res := e.mfaLogin("vera", wrong)
		require.Equal(t, http.StatusBadRequest, res.Code, "attempt %d", i+1)
	}
	res := e.mfaLogin("vera", app.Code(e.clock.Now()))
	require.Equal(t, http.StatusTooManyRequests, res.Code, "wrong codes count towards the login limit")
	assert.NotEmpty(t, res.Header().Get("Retry-After"))

	// Re-authentication on the MFA routes counts against the same limit.
	res = e.do(http.MethodDelete, totpPath, map[string]any{"password": goodPassword}, withToken(key))
	assert.Equal(t, http.StatusTooManyRequests, res.Code)

	var reasons []string
	for _, ev := range rec.take() {
		if ev.Kind == restauth.AuditLoginFailed {
			reasons = append(reasons, ev.Detail)
		}
	}
	assert.Contains(t, reasons, "invalid mfa code login="+restauth.LoginDigest(e.svc, "vera"))

	e.clock.Advance(6 * time.Minute)
	assert.Equal(t, http.StatusOK, e.mfaLogin("vera", app.Code(e.clock.Now())).Code)
}

func TestMFAAuditEvents(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withMFA, withAudit(rec))
	key, app, codes := e.enrol(t, "wade")
	require.Equal(t, http.StatusOK, e.mfaLogin("wade", app.Code(e.clock.Now())).Code)
	require.Equal(t, http.StatusOK, e.mfaLogin("wade", codes[0]).Code)
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, recoveryPath, map[string]any{"password": goodPassword}, withToken(key)).Code)
	require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, totpPath, map[string]any{"password": goodPassword}, withToken(key)).Code)

	var got []string
	for _, ev := range rec.take() {
		switch ev.Kind {
		case restauth.AuditMFAActivated, restauth.AuditMFADeactivated, restauth.AuditRecoveryCodesGenerated, restauth.AuditLoginSucceeded:
			got = append(got, string(ev.Kind)+" "+ev.Detail)
		}
		for _, c := range codes {
			assert.NotContains(t, ev.Detail, c, "no recovery code in the audit trail")
		}
	}
	assert.Equal(t, []string{
		"mfa_activated method=totp",
		"login_succeeded method=password+totp",
		"login_succeeded method=password+recovery_code",
		"recovery_codes_generated count=10",
		"mfa_deactivated method=totp",
	}, got)
}

func TestMFASecretsAtRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, app, codes := e.enrol(t, "xena")
	u, err := e.store.UserByUsername(context.Background(), "xena")
	require.NoError(t, err)
	d, err := e.store.TOTPDevice(context.Background(), u.ID)
	require.NoError(t, err)
	assert.True(t, d.Confirmed)
	assert.NotContains(t, string(d.SealedSecret), string(app.Key), "the TOTP secret is encrypted")
	assert.NotContains(t, string(d.SealedSecret), base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(app.Key))
	stored, err := e.store.RecoveryCodes(context.Background(), u.ID)
	require.NoError(t, err)
	require.Len(t, stored, 10)
	for _, c := range stored {
		for _, code := range codes {
			assert.NotContains(t, string(c.Hash[:]), code)
		}
	}
}

func TestMFAIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure func(*restauth.Config)
		issuer    string
	}{
		{"host name without the port", func(cfg *restauth.Config) { cfg.SiteURL = "http://127.0.0.1:8000" }, "127.0.0.1"},
		{"site name", func(cfg *restauth.Config) { cfg.SiteName = "Acme Parts" }, "Acme Parts"},
		{"explicit, colon removed", func(cfg *restauth.Config) { cfg.SiteName = "ignored"; cfg.MFA.Issuer = "Acme: Stores" }, "Acme  Stores"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withMFA, tc.configure)
			_, key := e.register("erin", goodPassword, "erin@example.com")
			app := scanOTPAuthURL(t, e.do(http.MethodGet, totpPath, nil, withToken(key)).JSON(t)["otpauth_url"].(string))
			assert.Equal(t, tc.issuer, app.Issuer)
			assert.Equal(t, "erin", app.Account)
		})
	}
}

func TestMFARoutesOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("yann", goodPassword, "yann@example.com")
	for _, p := range []string{totpPath, recoveryPath} {
		assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, p, nil, withToken(key)).Code, p)
	}
	assert.Equal(t, false, e.do(http.MethodGet, "/api/auth/providers/", nil).JSON(t)["mfa_enabled"])
}

func TestMFARoutesNeedAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	for _, p := range []string{totpPath, recoveryPath} {
		res := e.do(http.MethodGet, p, nil)
		require.Equal(t, http.StatusUnauthorized, res.Code, p)
		assert.Equal(t, map[string]any{"detail": "Authentication credentials were not provided."}, res.JSON(t))
	}
	_, key := e.register("zoe", goodPassword, "zoe@example.com")
	res := e.do(http.MethodPut, totpPath, map[string]any{}, withToken(key))
	require.Equal(t, http.StatusMethodNotAllowed, res.Code)
	assert.Equal(t, "GET, POST, DELETE, HEAD, OPTIONS", res.Header().Get("Allow"))
	res = e.do(http.MethodPatch, recoveryPath, map[string]any{}, withToken(key))
	require.Equal(t, http.StatusMethodNotAllowed, res.Code)
	assert.Equal(t, "GET, POST, HEAD, OPTIONS", res.Header().Get("Allow"))
	for path, name := range map[string]string{totpPath: "MFA TOTP", recoveryPath: "MFA Recovery Codes"} {
		res = e.do(http.MethodOptions, path, nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code)
		assert.Equal(t, name, res.JSON(t)["name"])
	}
}

// FuzzLoginMFACode posts arbitrary mfa_code values (any JSON value, or broken JSON) for a
// user with TOTP: the answer is a 4xx the contract documents, never a 500, and a login
// succeeds only with a code that really is valid.
func FuzzLoginMFACode(f *testing.F) {
	for _, seed := range []string{`"000000"`, `"12345"`, `"1234567"`, `""`, `null`, `123456`, `["123456"]`, `{"a":1}`,
		`"aaaaa-aaaaa"`, `"AAAAA AAAAA"`, `"\u0000"`, `"١٢٣٤٥٦"`, `"` + strings.Repeat("9", 100) + `"`, `"123456`, `true`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rawCode string) {
		e := newEnv(t, withMFA)
		_, app, codes := e.enrol(t, "fuzz")
		valid := map[string]bool{}
		for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
			valid[app.Code(e.clock.Now().Add(d))] = true
		}
		body := `{"username":"fuzz","password":"` + goodPassword + `","mfa_code":` + rawCode + `}`
		res := e.do(http.MethodPost, loginPath, body, withHeader("Content-Type", "application/json"))
		require.Less(t, res.Code, 500, res.Body.String())
		if res.Code != http.StatusOK {
			require.Contains(t, []int{http.StatusBadRequest, http.StatusForbidden}, res.Code, res.Body.String())
			return
		}
		var code string
		require.NoError(t, json.Unmarshal([]byte(rawCode), &code), "only a string code can log in")
		code = strings.TrimSpace(code)
		normalized := strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(code))
		isRecovery := false
		for _, c := range codes {
			isRecovery = isRecovery || strings.ReplaceAll(c, "-", "") == normalized
		}
		assert.True(t, valid[code] || isRecovery, "logged in with %q", rawCode)
	})
}

// A user who logs in only through a provider would be locked out by TOTP, since social
// logins of TOTP users are refused.
func TestMFAActivationNeedsAPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	u, key := e.register("abel", goodPassword, "abel@example.com")
	unusable := "!"
	_, err := e.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{PasswordHash: &unusable})
	require.NoError(t, err)
	res := e.do(http.MethodGet, totpPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
	res = e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"Set a password first: TOTP is a second step after the password."}}, res.JSON(t))
	assert.Equal(t, false, e.do(http.MethodGet, totpPath, nil, withToken(key)).JSON(t)["active"])
}

func TestResetMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	key, _, _ := e.enrol(t, "bea")
	u, err := e.store.UserByUsername(context.Background(), "bea")
	require.NoError(t, err)

	require.ErrorIs(t, e.svc.ResetMFA(context.Background(), u.ID+100), restauth.ErrNotFound)
	require.Equal(t, http.StatusForbidden, e.mfaLogin("bea", "").Code, "an unknown user's reset touches no one")

	require.NoError(t, e.svc.ResetMFA(context.Background(), u.ID))
	assert.Equal(t, http.StatusOK, e.mfaLogin("bea", "").Code)
	assert.Equal(t, false, e.do(http.MethodGet, totpPath, nil, withToken(key)).JSON(t)["active"], "they can enrol again")
	stored, err := e.store.RecoveryCodes(context.Background(), u.ID)
	require.NoError(t, err)
	assert.Empty(t, stored, "the recovery codes are gone")
}

// After Config.Secret changes, sealed TOTP secrets no longer open: a pending enrolment
// starts over with a new secret, while an active device fails loudly (500, logged) until
// an administrator resets it — never a silent login without the second factor.
func TestMFAAfterSecretChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, pendingKey := e.register("cleo", goodPassword, "cleo@example.com")
	pending := e.do(http.MethodGet, totpPath, nil, withToken(pendingKey)).JSON(t)
	_, app, _ := e.enrol(t, "dora")

	rotated := newEnv(t, withMFA, func(cfg *restauth.Config) {
		cfg.Store = e.store
		cfg.Secret = []byte("a-different-secret-a-different-secret-0123")
	})
	rotated.clock = e.clock
	res := rotated.do(http.MethodGet, totpPath, nil, withToken(pendingKey))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	fresh := res.JSON(t)
	assert.Equal(t, false, fresh["active"])
	assert.NotEqual(t, pending["secret"], fresh["secret"], "a new pending secret replaces the one that no longer opens")

	res = rotated.do(http.MethodPost, loginPath, map[string]any{"username": "dora", "password": goodPassword, "mfa_code": app.Code(e.clock.Now())})
	assert.Equal(t, http.StatusInternalServerError, res.Code)
	assert.Equal(t, http.StatusForbidden, rotated.mfaLogin("dora", "").Code, "never a login without the second factor")

	u, err := e.store.UserByUsername(context.Background(), "dora")
	require.NoError(t, err)
	require.NoError(t, rotated.svc.ResetMFA(context.Background(), u.ID))
	assert.Equal(t, http.StatusOK, rotated.mfaLogin("dora", "").Code)
}
