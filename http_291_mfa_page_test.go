package restauth_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/otptest"
)

const mfaPagePath = "/api/auth/login/mfa/"

// mfaBrowser is InvenTree's web UI in the mfa flow: its csrftoken and the session the
// flow stands in.
type mfaBrowser struct {
	e       *testEnv
	csrf    string
	session string
}

// startMFA does what the UI does: the JSON login gets 403 "MFA required" (with a
// csrftoken cookie), then the hidden form posts username, password, csrfmiddlewaretoken
// and mfa=true, and the answer is 302 to the second-factor page.
func startMFA(t *testing.T, e *testEnv, username string) *mfaBrowser {
	t.Helper()
	res := e.mfaLogin(username, "")
	require.Equal(t, http.StatusForbidden, res.Code, res.Body.String())
	assert.Equal(t, mfaRequiredBody, res.JSON(t))
	b := &mfaBrowser{e: e, csrf: csrfOf(t, res).Value}
	res = b.loginForm(username, goodPassword)
	require.Equal(t, http.StatusFound, res.Code, res.Body.String())
	assert.Equal(t, mfaPagePath, res.Header().Get("Location"))
	c := findSessionCookie(t, res.Header())
	require.NotNil(t, c, "the pending login lives in a session")
	b.session = c.Value
	return b
}

func (b *mfaBrowser) opts() []reqOpt {
	opts := []reqOpt{withCookie("csrftoken", b.csrf), withHeader("Origin", "http://testserver")}
	if b.session != "" {
		opts = append(opts, withSessionID(b.session))
	}
	return opts
}

func (b *mfaBrowser) loginForm(username, password string) response {
	return b.e.do(http.MethodPost, loginPath, url.Values{"username": {username}, "password": {password},
		"csrfmiddlewaretoken": {b.csrf}, "mfa": {"true"}}, b.opts()...)
}

// submit posts a code on the page.
func (b *mfaBrowser) submit(code string) response {
	return b.e.do(http.MethodPost, mfaPagePath, url.Values{"csrfmiddlewaretoken": {b.csrf}, "otp_token": {code}}, b.opts()...)
}

// assertMFAPage checks a page answer and returns its body.
func assertMFAPage(t *testing.T, res response, status int) string {
	t.Helper()
	require.Equal(t, status, res.Code, res.Body.String())
	assert.Equal(t, "text/html; charset=utf-8", res.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header().Get("Cache-Control"))
	assert.Contains(t, res.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")
	body := res.Body.String()
	assert.Contains(t, body, "<title>Two-Factor Authentication · testserver</title>", "the site name")
	assert.NotContains(t, body, "<script", "no JavaScript")
	return body
}

// loggedInAs reports the username the session is logged in as, "" for none.
func loggedInAs(t *testing.T, e *testEnv, session string) string {
	t.Helper()
	res := e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(session))
	if res.Code != http.StatusOK {
		return ""
	}
	return res.JSON(t)["username"].(string)
}

func TestMFAPageFullFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure func(*restauth.Config)
		location  string
	}{
		{"default page after login", withMFA, "http://testserver/platform"},
		{"configured page after login", func(c *restauth.Config) { withMFA(c); c.Links.AfterLogin = "/app/?welcome=1" }, "http://testserver/app/?welcome=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.configure)
			_, app, _ := e.enrol(t, "mira")
			b := startMFA(t, e, "mira")
			assert.Empty(t, loggedInAs(t, e, b.session), "a pending login is no login")

			body := assertMFAPage(t, e.do(http.MethodGet, mfaPagePath, nil, b.opts()...), http.StatusOK)
			assert.Contains(t, body, `<form method="post">`)
			assert.Contains(t, body, `name="csrfmiddlewaretoken" value="`+b.csrf+`"`)
			assert.Contains(t, body, `name="otp_token"`)
			assert.NotContains(t, body, goodPassword)

			res := b.submit(app.Code(e.clock.Now()))
			require.Equal(t, http.StatusSeeOther, res.Code, res.Body.String())
			assert.Equal(t, tc.location, res.Header().Get("Location"))
			c := findSessionCookie(t, res.Header())
			require.NotNil(t, c)
			assert.NotEqual(t, b.session, c.Value, "the login renews the session id")
			assert.NotEqual(t, b.csrf, csrfOf(t, res).Value, "and rotates the csrftoken")
			assert.Equal(t, "mira", loggedInAs(t, e, c.Value))
			assert.Empty(t, loggedInAs(t, e, b.session))

			// The pending login is spent: the page now shows the message.
			b.session = c.Value
			assert.Contains(t, assertMFAPage(t, e.do(http.MethodGet, mfaPagePath, nil, b.opts()...), http.StatusBadRequest), "log in again")
		})
	}
}

// TestMFAPageWrongCodeCountsTowardsLimits: a wrong code shows the form with the error,
// and counts like the JSON second step's: over MFAFailedPerUser even a right code is
// refused, on the page and on the JSON route alike.
func TestMFAPageWrongCodeCountsTowardsLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA, func(c *restauth.Config) {
		c.RateLimits.MFAFailedPerUser = restauth.RateRule{Name: "mfa", Limit: 2, Window: time.Hour}
	})
	_, app, _ := e.enrol(t, "nils")
	b := startMFA(t, e, "nils")
	wrong := wrongCode(app, e.clock.Now())
	for range 2 {
		body := assertMFAPage(t, b.submit(wrong), http.StatusBadRequest)
		assert.Contains(t, body, "The token entered was incorrect.")
		assert.Contains(t, body, `name="otp_token"`, "the form again")
		assert.Empty(t, loggedInAs(t, e, b.session))
	}
	res := b.submit(app.Code(e.clock.Now()))
	assert.Contains(t, assertMFAPage(t, res, http.StatusTooManyRequests), "Too many attempts")
	assert.NotEmpty(t, res.Header().Get("Retry-After"))
	assert.Empty(t, loggedInAs(t, e, b.session))
	// The same count as the JSON route's.
	assert.Equal(t, http.StatusTooManyRequests, e.mfaLogin("nils", app.Code(e.clock.Now())).Code)
}

func wrongCode(app *otptest.App, now time.Time) string {
	if app.Code(now) == "000000" {
		return "111111"
	}
	return "000000"
}

func TestMFAPageRecoveryCodeOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, _, codes := e.enrol(t, "olga")
	b := startMFA(t, e, "olga")
	res := b.submit(codes[0])
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body.String())
	assert.Equal(t, "olga", loggedInAs(t, e, findSessionCookie(t, res.Header()).Value))

	b = startMFA(t, e, "olga")
	assert.Contains(t, assertMFAPage(t, b.submit(codes[0]), http.StatusBadRequest), "incorrect")
	assert.Empty(t, loggedInAs(t, e, b.session))
	require.Equal(t, http.StatusSeeOther, b.submit(codes[1]).Code, "another recovery code works")
}

func TestMFAPageReplayedCodeRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, app, _ := e.enrol(t, "pia")
	code := app.Code(e.clock.Now())
	require.Equal(t, http.StatusSeeOther, startMFA(t, e, "pia").submit(code).Code)

	b := startMFA(t, e, "pia")
	assert.Contains(t, assertMFAPage(t, b.submit(code), http.StatusBadRequest), "incorrect", "the page")
	assert.Empty(t, loggedInAs(t, e, b.session))
	res := e.mfaLogin("pia", code)
	assert.Equal(t, http.StatusBadRequest, res.Code, "and the JSON route refuse the used step")
}

// TestMFAPageNeedsCSRF: the mfa form of login/ and the page's form without the right
// token, or from another site, are refused with 403 and log nobody in.
func TestMFAPageNeedsCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, app, _ := e.enrol(t, "quinn")
	b := startMFA(t, e, "quinn")

	tests := []struct {
		name string
		form url.Values
		opts []reqOpt
	}{
		{"no cookie, no field", url.Values{}, nil},
		{"cookie without field", url.Values{}, []reqOpt{withCookie("csrftoken", b.csrf)}},
		{"field without cookie", url.Values{"csrfmiddlewaretoken": {b.csrf}}, nil},
		{"cross-site", url.Values{"csrfmiddlewaretoken": {b.csrf}},
			[]reqOpt{withCookie("csrftoken", b.csrf), withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "http://evil.example")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"username": {"quinn"}, "password": {goodPassword}, "mfa": {"true"}}
			for k, v := range tc.form {
				form[k] = v
			}
			res := e.do(http.MethodPost, loginPath, form, tc.opts...)
			require.Equal(t, http.StatusForbidden, res.Code, res.Body.String())
			assert.Contains(t, res.JSON(t)["detail"], "CSRF Failed")
			assert.Empty(t, res.Header().Get("Location"))
			assert.Nil(t, findSessionCookie(t, res.Header()), "no pending login")

			page := url.Values{"otp_token": {app.Code(e.clock.Now())}}
			for k, v := range tc.form {
				page[k] = v
			}
			res = e.do(http.MethodPost, mfaPagePath, page, append(tc.opts, withSessionID(b.session))...)
			assert.Contains(t, assertMFAPage(t, res, http.StatusForbidden), "did not come from this site")
			assert.Empty(t, loggedInAs(t, e, b.session))
		})
	}
	// Refused posts spent nothing: the code still logs in.
	require.Equal(t, http.StatusSeeOther, b.submit(app.Code(e.clock.Now())).Code)
}

func TestMFAFormLoginWrongCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	e.enrol(t, "rosa")
	b := startMFA(t, e, "rosa")
	b.session = ""
	for _, tc := range []struct{ name, username, password string }{
		{"wrong password", "rosa", "not-the-password"},
		{"unknown user", "nobody", goodPassword},
		{"blank password", "rosa", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.loginForm(tc.username, tc.password)
			require.Equal(t, http.StatusUnauthorized, res.Code)
			assert.Empty(t, res.Body.String(), "the reference's empty 401")
			assert.Equal(t, "text/html; charset=utf-8", res.Header().Get("Content-Type"))
			assert.Nil(t, findSessionCookie(t, res.Header()))
		})
	}
}

// TestMFAFormLoginWithoutTOTP: a user without a second factor who posts mfa=true logs in
// as with the normal flow (BEHAVIOUR.md §5.1): 200 {"key"} and a session.
func TestMFAFormLoginWithoutTOTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	e.register("sven", goodPassword, "sven@example.com")
	b := &mfaBrowser{e: e, csrf: csrfOf(t, e.do(http.MethodPost, loginPath, map[string]any{"username": "sven", "password": goodPassword})).Value}
	res := b.loginForm("sven", goodPassword)
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Regexp(t, `^inv-[0-9a-f]{40}-\d{8}$`, res.JSON(t)["key"])
	assert.Equal(t, "sven", loggedInAs(t, e, findSessionCookie(t, res.Header()).Value))
}

// TestMFAPagePendingLoginExpires: the pending login lasts 10 minutes, and a password
// change in between ends it.
func TestMFAPagePendingLoginExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withMFA)
	_, app, _ := e.enrol(t, "tove")
	b := startMFA(t, e, "tove")
	e.clock.Advance(11 * time.Minute)
	assert.Contains(t, assertMFAPage(t, b.submit(app.Code(e.clock.Now())), http.StatusBadRequest), "log in again")
	assert.Empty(t, loggedInAs(t, e, b.session))

	b = startMFA(t, e, "tove")
	u, err := e.store.UserByUsername(context.Background(), "tove")
	require.NoError(t, err)
	_, err = e.svc.ChangePassword(context.Background(), u, restauth.PasswordChange{Old: goodPassword, New1: goodPassword + "x", New2: goodPassword + "x"})
	require.NoError(t, err)
	assert.Contains(t, assertMFAPage(t, b.submit(app.Code(e.clock.Now())), http.StatusBadRequest), "log in again")
	assert.Empty(t, loggedInAs(t, e, b.session))
}
