package restauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

const confirmPagePrefix = "/api/auth/registration/account-confirm-email/"

// csrfOf returns the csrftoken cookie a page answer set, failing without one.
func csrfOf(t *testing.T, res response) *http.Cookie {
	t.Helper()
	for _, c := range res.Result().Cookies() {
		if c.Name == "csrftoken" {
			return c
		}
	}
	t.Fatalf("no csrftoken cookie in %q", res.Header().Values("Set-Cookie"))
	return nil
}

// withCookie adds a cookie to a request.
func withCookie(name, value string) reqOpt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

// registerForConfirmation registers a user through the HTTP route and returns the user
// and the path of the confirmation link of the registration mail.
func registerForConfirmation(t *testing.T, e *testEnv, username, email string) (*restauth.User, string) {
	t.Helper()
	u, path, _ := registerWithSession(t, e, username, email)
	return u, path
}

// registerWithSession is registerForConfirmation that also returns the session id the
// registration logged in.
func registerWithSession(t *testing.T, e *testEnv, username, email string) (*restauth.User, string, string) {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/registration/", registration(username, email, goodPassword, goodPassword))
	require.Equal(t, http.StatusNoContent, res.Code, res.Body.String())
	session := findSessionCookie(t, res.Header()).Value
	u, err := e.store.UserByUsername(context.Background(), username)
	require.NoError(t, err)
	link := mailLink(t, e.lastMailTo(t, email))
	assert.Equal(t, "http://testserver", link.Scheme+"://"+link.Host, "the link is on SiteURL")
	require.True(t, strings.HasPrefix(link.Path, confirmPagePrefix), "the default link opens restauth's page: %s", link)
	return u, link.EscapedPath(), session
}

func assertPage(t *testing.T, res response, status int) string {
	t.Helper()
	require.Equal(t, status, res.Code, res.Body.String())
	assert.Equal(t, "text/html; charset=utf-8", res.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", res.Header().Get("Cache-Control"))
	assert.Contains(t, res.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'")
	body := res.Body.String()
	assert.Contains(t, body, "<title>Confirm E-mail Address · testserver</title>", "the site name")
	assert.NotContains(t, body, "<script", "no JavaScript")
	return body
}

// TestConfirmPageFromRegistrationMail follows the default link of a registration mail
// through the mux: GET shows the address and the form, the form's POST verifies and
// redirects to the login page, and the used key then shows the message page.
func TestConfirmPageFromRegistrationMail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		configure func(*restauth.Config)
		location  string
	}{
		{"default login page", func(*restauth.Config) {}, "http://testserver/platform/login"},
		{"configured login page", func(c *restauth.Config) { c.Links.Login = "/login/?confirmed=1" }, "http://testserver/login/?confirmed=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.configure)
			u, path := registerForConfirmation(t, e, "cleo", "Cleo@Example.com")

			res := e.do(http.MethodGet, path, nil)
			body := assertPage(t, res, http.StatusOK)
			assert.Contains(t, body, "Cleo@Example.com")
			assert.Contains(t, body, `<form method="post">`)
			csrf := csrfOf(t, res)
			assert.Contains(t, body, `name="csrfmiddlewaretoken" value="`+csrf.Value+`"`)
			assert.False(t, e.addresses(t, u.ID)[0].Verified, "GET verifies nothing")

			// A second GET with the cookie keeps it and carries the same token.
			again := e.do(http.MethodGet, path, nil, withCookie("csrftoken", csrf.Value))
			assert.Contains(t, assertPage(t, again, http.StatusOK), `value="`+csrf.Value+`"`)
			assert.Empty(t, again.Header().Values("Set-Cookie"))

			res = e.do(http.MethodPost, path, url.Values{"csrfmiddlewaretoken": {csrf.Value}},
				withCookie("csrftoken", csrf.Value), withHeader("Origin", "http://testserver"))
			require.Equal(t, http.StatusSeeOther, res.Code, res.Body.String())
			assert.Equal(t, tc.location, res.Header().Get("Location"))
			addrs := e.addresses(t, u.ID)
			require.Len(t, addrs, 1)
			assert.True(t, addrs[0].Verified)
			assert.True(t, addrs[0].Primary)

			// The key is used now: both methods show the message page.
			assert.Contains(t, assertPage(t, e.do(http.MethodGet, path, nil), http.StatusNotFound), "expired or is invalid")
			res = e.do(http.MethodPost, path, url.Values{"csrfmiddlewaretoken": {csrf.Value}}, withCookie("csrftoken", csrf.Value))
			assert.Contains(t, assertPage(t, res, http.StatusNotFound), "expired or is invalid")
		})
	}
}

// TestConfirmPagePostNeedsCSRF: a post without the form's CSRF token, or from another
// site, is refused with 403 and verifies nothing, for a logged-in browser too.
func TestConfirmPagePostNeedsCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, path := registerForConfirmation(t, e, "dora", "dora@example.com")
	csrf := csrfOf(t, e.do(http.MethodGet, path, nil)).Value
	other := csrfOf(t, e.do(http.MethodGet, path, nil)).Value
	require.NotEqual(t, csrf, other)

	tests := []struct {
		name string
		body url.Values
		opts []reqOpt
	}{
		{"no cookie, no field", url.Values{}, nil},
		{"field without cookie", url.Values{"csrfmiddlewaretoken": {csrf}}, nil},
		{"cookie without field", url.Values{}, []reqOpt{withCookie("csrftoken", csrf)}},
		{"another browser's token", url.Values{"csrfmiddlewaretoken": {other}}, []reqOpt{withCookie("csrftoken", csrf)}},
		{"garbled token", url.Values{"csrfmiddlewaretoken": {"x"}}, []reqOpt{withCookie("csrftoken", csrf)}},
		{"cross-site with a right token", url.Values{"csrfmiddlewaretoken": {csrf}},
			[]reqOpt{withCookie("csrftoken", csrf), withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://evil.example")}},
		{"JSON body", nil, []reqOpt{withCookie("csrftoken", csrf)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any = tc.body
			if tc.body == nil {
				body = map[string]any{"csrfmiddlewaretoken": csrf}
			}
			res := e.do(http.MethodPost, path, body, tc.opts...)
			assert.Contains(t, assertPage(t, res, http.StatusForbidden), "did not come from this site")
			assert.Empty(t, res.Header().Get("Location"))
			assert.False(t, e.addresses(t, u.ID)[0].Verified, "nothing is verified")
		})
	}

	// A logged-in browser (registration opened a session) is held to the form's token too:
	// its session's X-CSRFToken rule does not apply to the page, the form field does.
	v, vpath, session := registerWithSession(t, e, "vera", "vera@example.com")
	vcsrf := csrfOf(t, e.do(http.MethodGet, vpath, nil, withSessionID(session))).Value
	res := e.do(http.MethodPost, vpath, url.Values{}, withSessionID(session), withCookie("csrftoken", vcsrf))
	assertPage(t, res, http.StatusForbidden)
	assert.False(t, e.addresses(t, v.ID)[0].Verified)
	res = e.do(http.MethodPost, vpath, url.Values{"csrfmiddlewaretoken": {vcsrf}}, withSessionID(session), withCookie("csrftoken", vcsrf))
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body.String())
	assert.True(t, e.addresses(t, v.ID)[0].Verified)

	// The X-CSRFToken header stands in for the field, as in Django.
	res = e.do(http.MethodPost, path, url.Values{}, withCookie("csrftoken", csrf), withHeader("X-CSRFToken", csrf))
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body.String())
	assert.True(t, e.addresses(t, u.ID)[0].Verified)
}

// TestConfirmPageBadKeys: a garbled, tampered or expired key shows the message page on
// GET and POST, and a logged-in session does not change that.
func TestConfirmPageBadKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, path := registerForConfirmation(t, e, "emil", "emil@example.com")
	key := strings.TrimSuffix(strings.TrimPrefix(path, confirmPagePrefix), "/")
	tests := []struct {
		name string
		path string
	}{
		{"garbled", confirmPagePrefix + "garbage/"},
		{"tampered", confirmPagePrefix + key + "x/"},
		{"percent-encoded nonsense", confirmPagePrefix + "%3Cb%3E:1:2/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Contains(t, assertPage(t, e.do(http.MethodGet, tc.path, nil), http.StatusNotFound), "expired or is invalid")
			get := e.do(http.MethodGet, path, nil)
			csrf := csrfOf(t, get).Value
			res := e.do(http.MethodPost, tc.path, url.Values{"csrfmiddlewaretoken": {csrf}}, withCookie("csrftoken", csrf))
			assert.Contains(t, assertPage(t, res, http.StatusNotFound), "expired or is invalid")
		})
	}
	assert.False(t, e.addresses(t, u.ID)[0].Verified)

	t.Run("expired", func(t *testing.T) {
		e := newEnv(t, func(c *restauth.Config) { c.EmailConfirmationExpiry = time.Hour })
		u, path := registerForConfirmation(t, e, "fritz", "fritz@example.com")
		csrf := csrfOf(t, e.do(http.MethodGet, path, nil)).Value
		e.clock.Advance(time.Hour + time.Second)
		assert.Contains(t, assertPage(t, e.do(http.MethodGet, path, nil), http.StatusNotFound), "expired or is invalid")
		res := e.do(http.MethodPost, path, url.Values{"csrfmiddlewaretoken": {csrf}}, withCookie("csrftoken", csrf))
		assert.Contains(t, assertPage(t, res, http.StatusNotFound), "expired or is invalid")
		assert.False(t, e.addresses(t, u.ID)[0].Verified)
	})
}

// TestConfirmationAddressPeeks: ConfirmationAddress names the address without using the
// key, and refuses what VerifyEmail refuses.
func TestConfirmationAddressPeeks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, path := registerForConfirmation(t, e, "gina", "gina@example.com")
	key := strings.TrimSuffix(strings.TrimPrefix(path, confirmPagePrefix), "/")
	ctx := context.Background()
	for range 2 {
		addr, err := e.svc.ConfirmationAddress(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, "gina@example.com", addr.Email)
		assert.Equal(t, u.ID, addr.UserID)
		assert.False(t, addr.Verified)
	}
	_, err := e.svc.ConfirmationAddress(ctx, "nonsense")
	assert.ErrorIs(t, err, restauth.ErrNotFound)
	_, err = e.svc.VerifyEmail(ctx, key)
	require.NoError(t, err)
	_, err = e.svc.ConfirmationAddress(ctx, key)
	assert.ErrorIs(t, err, restauth.ErrNotFound, "a used key")
}
