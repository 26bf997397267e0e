package restauth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// With MFA required, a user who has not enrolled reaches only enrolment and logout, with
// any credential: the token registration hands out (with RegistrationTokenAnswer), or one
// issued before MFA.Required.
func TestMFARequiredConfinesUnenrolledCredentials(t *testing.T) {
	t.Parallel()
	required := func(cfg *restauth.Config) { cfg.MFA.Enabled, cfg.MFA.Required = true, true }
	e := newEnv(t, required, tokenAnswer)
	res := e.do(http.MethodPost, "/api/auth/registration/", map[string]any{
		"username": "pete", "email": "pete@example.com", "password1": goodPassword, "password2": goodPassword})
	require.Equal(t, http.StatusCreated, res.Code, res.Body.String())
	key := res.JSON(t)["key"].(string)

	for _, path := range []string{"/api/auth/user/", "/api/user/me/", "/api/user/token/", "/api/auth/emails/"} {
		res := e.do(http.MethodGet, path, nil, withToken(key))
		require.Equal(t, http.StatusForbidden, res.Code, path)
		assert.Equal(t, mfaRequiredBody, res.JSON(t), path)
	}
	h := e.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, newRequest(http.MethodGet, "/api/part/", nil, withToken(key)))
	assert.Equal(t, http.StatusForbidden, rec.Code, "the host's routes too")

	// Enrolment works with that token, and then the token is a full one again.
	res = e.do(http.MethodGet, totpPath, nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
	require.Equal(t, http.StatusOK, e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key)).Code)
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key)).Code)

	// A token issued before MFA.Required was turned on is confined the same way.
	relaxed := newEnv(t, withMFA, func(cfg *restauth.Config) { cfg.Store = e.store })
	_, old := relaxed.register("quinn", goodPassword, "quinn@example.com")
	strict := newEnv(t, required, func(cfg *restauth.Config) { cfg.Store = e.store })
	assert.Equal(t, http.StatusForbidden, strict.do(http.MethodGet, "/api/auth/user/", nil, withToken(old)).Code)
	res = strict.do(http.MethodPost, "/api/auth/logout/", nil, withToken(old))
	require.Equal(t, http.StatusOK, res.Code, "logout stays open")
	assert.Equal(t, http.StatusUnauthorized, strict.do(http.MethodGet, totpPath, nil, withToken(old)).Code, "the token is revoked")
}

// login/ reads the credentials in its body; a Basic header for the same user must not
// stop the second step (the header does not replace the body, as in the reference).
func TestMFALoginWithBasicHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, app, _ := e.enrol(t, "rosa")
	res := e.do(http.MethodPost, loginPath, map[string]any{"username": "rosa", "password": goodPassword, "mfa_code": app.Code(e.clock.Now())},
		withBasic("rosa", goodPassword))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	res = e.do(http.MethodPost, loginPath, map[string]any{"username": "rosa", "password": goodPassword}, withBasic("rosa", goodPassword))
	assert.Equal(t, http.StatusForbidden, res.Code, "still no login without the code")
}

func TestMFACodeAsAppsShowIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, app, _ := e.enrol(t, "sami")
	code := app.Code(e.clock.Now())
	res := e.mfaLogin("sami", " "+code[:3]+" "+code[3:]+" ")
	assert.Equal(t, http.StatusOK, res.Code, res.Body.String())
}

// Someone with the password guesses codes from many addresses: the per-user cap stops
// them long before the per-account login limit would, and a correct code clears it.
func TestMFAFailedCodesPerUserCap(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withMFA, withAudit(rec), func(cfg *restauth.Config) {
		cfg.RateLimits = noRateLimits()
		cfg.RateLimits.MFAFailedPerUser = restauth.RateRule{Limit: 3, Window: 24 * time.Hour}
	})
	_, app, codes := e.enrol(t, "tina")
	for i := range 3 {
		res := e.mfaLogin("tina", "aaaaa-aaaa"+string(rune('a'+i)))
		require.Equal(t, http.StatusBadRequest, res.Code, "guess %d", i+1)
	}
	res := e.mfaLogin("tina", app.Code(e.clock.Now()))
	require.Equal(t, http.StatusTooManyRequests, res.Code, "even a right code waits once the cap is reached")
	assert.NotEmpty(t, res.Header().Get("Retry-After"))
	assert.Contains(t, kindsAndDetails(rec.take()), "throttled rule=mfa_failed_user")

	e.clock.Advance(25 * time.Hour)
	require.Equal(t, http.StatusOK, e.mfaLogin("tina", codes[0]).Code)
	for i := range 3 { // the success cleared the count
		require.Equal(t, http.StatusBadRequest, e.mfaLogin("tina", "bbbbb-bbbb"+string(rune('a'+i))).Code)
	}
}

func kindsAndDetails(events []restauth.AuditEvent) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = string(ev.Kind) + " " + ev.Detail
	}
	return out
}

func TestMFAAnswersAreNotCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, key := e.register("uma", goodPassword, "uma@example.com")
	for _, path := range []string{totpPath, recoveryPath} {
		res := e.do(http.MethodGet, path, nil, withToken(key))
		require.Equal(t, http.StatusOK, res.Code)
		assert.Equal(t, "no-store", res.Header().Get("Cache-Control"), path)
	}
}

// Guessing the password on the re-authentication of the MFA routes leaves a trail.
func TestMFAFailedReauthenticationIsAudited(t *testing.T) {
	t.Parallel()
	rec := &auditRecorder{}
	e := newEnv(t, withMFA, withAudit(rec))
	key, _, _ := e.enrol(t, "vince")
	rec.take()
	require.Equal(t, http.StatusBadRequest, e.do(http.MethodDelete, totpPath, map[string]any{"password": "wrong-guess"}, withToken(key)).Code)
	require.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, recoveryPath, map[string]any{"code": "zzzzz-zzzzz"}, withToken(key)).Code)
	// The user is known here: the events keep the id, never a name (security issue #16).
	login := " login=" + restauth.LoginDigest(e.svc, "vince")
	events := rec.take()
	assert.Equal(t, []string{
		"login_failed invalid credentials method=reauthentication" + login,
		"login_failed invalid mfa code method=reauthentication" + login,
	}, kindsAndDetails(events))
	for _, ev := range events {
		assert.NotZero(t, ev.UserID)
		assert.Empty(t, ev.Username)
	}
}

// A double submit of the activation (codes of two adjacent steps) activates once and
// hands out one set of recovery codes.
func TestMFAConcurrentActivation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	wren, key := e.register("wren", goodPassword, "wren@example.com")
	e.verify(t, e.addresses(t, wren.ID)[0].ID) // notices go only to verified addresses
	res := e.do(http.MethodGet, totpPath, nil, withToken(key))
	app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
	now := e.clock.Now()
	codes := []string{app.Code(now), app.Code(now.Add(30 * time.Second))}
	statuses := make([]int, len(codes))
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			e.mux.ServeHTTP(rec, newRequest(http.MethodPost, totpPath, map[string]any{"code": code}, withToken(key)))
			statuses[i] = rec.Code
		})
	}
	wg.Wait()
	assert.ElementsMatch(t, []int{http.StatusOK, http.StatusBadRequest}, statuses)
	u, err := e.store.UserByUsername(context.Background(), "wren")
	require.NoError(t, err)
	stored, err := e.store.RecoveryCodes(context.Background(), u.ID)
	require.NoError(t, err)
	assert.Len(t, stored, 10, "one set of recovery codes")
	activated := 0
	for _, m := range e.mailer.Messages() {
		if strings.HasSuffix(m.Subject, "Authenticator App Activated") {
			activated++
		}
	}
	assert.Equal(t, 1, activated)
}

// With MFA required, the session the default registration answer (204) logs in is
// confined like the token: enrolment only.
func TestMFARequiredConfinesRegistrationSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *restauth.Config) { cfg.MFA.Enabled, cfg.MFA.Required = true, true })
	res := e.do(http.MethodPost, "/api/auth/registration/", map[string]any{
		"username": "petra", "email": "petra@example.com", "password1": goodPassword, "password2": goodPassword})
	require.Equal(t, http.StatusNoContent, res.Code, res.Body.String())
	c := findSessionCookie(t, res.Header())
	require.NotNil(t, c, "the session is logged in")

	for _, path := range []string{"/api/auth/user/", "/api/user/me/", "/api/auth/emails/"} {
		res := e.do(http.MethodGet, path, nil, withSessionID(c.Value))
		require.Equal(t, http.StatusForbidden, res.Code, path)
		assert.Equal(t, mfaRequiredBody, res.JSON(t), path)
	}
	res = e.do(http.MethodGet, totpPath, nil, withSessionID(c.Value))
	assert.Equal(t, http.StatusOK, res.Code, "enrolment is open: %s", res.Body)
}
