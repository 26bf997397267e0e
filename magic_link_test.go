package restauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

const (
	magicGeneratePath = "/api/email/generate/"
	magicLoginPath    = "/api/email/login/"
)

// magicEnv is apiEnv with the magic-link login turned on.
func magicEnv(t *testing.T, configure ...func(*restauth.Config)) *testEnv {
	t.Helper()
	return apiEnv(t, append([]func(*restauth.Config){func(c *restauth.Config) { c.MagicLink.Enabled = true }}, configure...)...)
}

// verifiedUser registers username with username@example.com and verifies the address.
func (e *testEnv) verifiedUser(t *testing.T, username string) *restauth.User {
	t.Helper()
	u, _ := e.register(username, goodPassword, username+"@example.com")
	e.verify(t, e.addresses(t, u.ID)[0].ID)
	return u
}

var magicLinkRE = regexp.MustCompile(`http://testserver(/api/email/login/\?sesame=\S+)`)

// magicLink asks for a link for email over HTTP and returns the path of the link mailed,
// "" when no mail was sent.
func (e *testEnv) magicLink(t *testing.T, email string) string {
	t.Helper()
	before := len(e.mailer.Messages())
	res := e.do(http.MethodPost, magicGeneratePath, map[string]any{"email": email})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"status": "ok"}, res.JSON(t))
	msgs := e.mailer.Messages()
	if len(msgs) == before {
		return ""
	}
	require.Len(t, msgs, before+1)
	msg := msgs[before]
	assert.Equal(t, "[restauth] Log in to testserver", msg.Subject)
	m := magicLinkRE.FindStringSubmatch(msg.Text)
	require.NotNil(t, m, msg.Text)
	assert.Contains(t, msg.HTML, `href="http://testserver`+m[1]+`"`)
	return m[1]
}

// withCookies sends the cookies res set.
func withCookies(res response) reqOpt {
	return func(r *http.Request) {
		for _, c := range res.Result().Cookies() {
			if c.MaxAge >= 0 && c.Value != "" {
				r.AddCookie(c)
			}
		}
	}
}

// followMagicLink opens the link and returns the answer; it must be a redirect.
func (e *testEnv) followMagicLink(t *testing.T, path string) (response, *url.URL) {
	t.Helper()
	res := e.do(http.MethodGet, path, nil)
	require.Equal(t, http.StatusFound, res.Code, res.Body.String())
	loc, err := url.Parse(res.Header().Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "no-referrer", res.Header().Get("Referrer-Policy"))
	return res, loc
}

// loggedIn reports whether the session res set is logged in as username.
func (e *testEnv) loggedIn(t *testing.T, res response, username string) bool {
	t.Helper()
	me := e.do(http.MethodGet, "/api/user/me/", nil, withCookies(res))
	if me.Code != http.StatusOK {
		return false
	}
	return me.JSON(t)["username"] == username
}

func TestMagicLinkOffByDefault(t *testing.T) {
	t.Parallel()
	e := apiEnv(t)
	e.verifiedUser(t, "alice")
	mails := len(e.mailer.Messages()) // the signup confirmation
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, magicGeneratePath},
		{http.MethodGet, magicLoginPath + "?sesame=x"},
	} {
		res := e.do(tc.method, tc.path, map[string]any{"email": "alice@example.com"})
		assert.Equal(t, http.StatusNotFound, res.Code, tc.path)
		assert.Equal(t, "API endpoint not found", res.JSON(t)["detail"], tc.path)
	}
	assert.Len(t, e.mailer.Messages(), mails)
	assert.ErrorIs(t, e.svc.RequestMagicLink(context.Background(), "alice@example.com"), restauth.ErrMagicLinkDisabled)
	_, err := e.svc.MagicLogin(context.Background(), "x")
	assert.ErrorIs(t, err, restauth.ErrMagicLinkDisabled)
}

func TestMagicLinkValidation(t *testing.T) {
	t.Parallel()
	e := magicEnv(t)
	for _, tc := range []struct {
		name string
		body map[string]any
		want map[string]any
	}{
		{"missing", map[string]any{}, map[string]any{"email": []any{"This field is required."}}},
		{"blank", map[string]any{"email": " "}, map[string]any{"email": []any{"This field may not be blank."}}},
	} {
		res := e.do(http.MethodPost, magicGeneratePath, tc.body)
		assert.Equal(t, http.StatusBadRequest, res.Code, tc.name)
		assert.Equal(t, tc.want, res.JSON(t), tc.name)
	}
}

func TestMagicLinkLogsInOnce(t *testing.T) {
	t.Parallel()
	e := magicEnv(t)
	e.verifiedUser(t, "alice")
	link := e.magicLink(t, "Alice@Example.com")
	require.NotEmpty(t, link)

	e.clock.Advance(299 * time.Second)
	res, loc := e.followMagicLink(t, link)
	assert.Equal(t, "http://testserver/platform/logged-in/", loc.String())
	assert.True(t, e.loggedIn(t, res, "alice"), "the link logs the session in")

	again, loc := e.followMagicLink(t, link)
	assert.Equal(t, "/platform/login", loc.Path)
	assert.Equal(t, "invalid_link", loc.Query().Get("magic_link_error"), "the second use is refused")
	assert.False(t, e.loggedIn(t, again, "alice"))
}

func TestMagicLinkRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// spoil runs between the mail and the use of the link.
		spoil func(e *testEnv, u *restauth.User, link string) string
	}{
		{"expired after 300 s", func(e *testEnv, _ *restauth.User, link string) string {
			e.clock.Advance(301 * time.Second)
			return link
		}},
		{"tampered", func(_ *testEnv, _ *restauth.User, link string) string { return tamperSignature(link) }},
		{"malformed", func(_ *testEnv, _ *restauth.User, _ string) string { return magicLoginPath + "?sesame=nope" }},
		{"no token", func(_ *testEnv, _ *restauth.User, _ string) string { return magicLoginPath }},
		{"user logged in since", func(e *testEnv, _ *restauth.User, link string) string {
			e.login(t, "alice")
			return link
		}},
		{"user deactivated", func(e *testEnv, u *restauth.User, link string) string {
			f := false
			_, err := e.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{IsActive: &f})
			require.NoError(t, err)
			return link
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := magicEnv(t)
			u := e.verifiedUser(t, "alice")
			link := e.magicLink(t, "alice@example.com")
			require.NotEmpty(t, link)
			res, loc := e.followMagicLink(t, tc.spoil(e, u, link))
			assert.Equal(t, "http://testserver/platform/login?magic_link_error=invalid_link", loc.String())
			assert.False(t, e.loggedIn(t, res, "alice"))
		})
	}
}

func TestMagicLinkMailsOnlyTheSoleVerifiedHolder(t *testing.T) {
	t.Parallel()
	e := magicEnv(t)
	e.register("unverified", goodPassword, "unverified@example.com")
	assert.Empty(t, e.magicLink(t, "unverified@example.com"), "an unverified address gets nothing")
	assert.Empty(t, e.magicLink(t, "nobody@example.com"))
	assert.Empty(t, e.magicLink(t, "not an address"))
	// (Two users holding one address verified cannot happen: the stores refuse it.)
	inactive := e.verifiedUser(t, "inactive")
	f := false
	_, err := e.store.UpdateUser(context.Background(), inactive.ID, restauth.UserUpdate{IsActive: &f})
	require.NoError(t, err)
	assert.Empty(t, e.magicLink(t, "inactive@example.com"), "an inactive user gets nothing")
}

func TestMagicLinkRefusesUsersWithSecondFactor(t *testing.T) {
	t.Parallel()
	e := magicEnv(t, func(c *restauth.Config) { c.MFA.Enabled = true })
	key, _, _ := e.enrol(t, "alice")
	me := e.do(http.MethodGet, "/api/user/me/", nil, withToken(key))
	require.Equal(t, http.StatusOK, me.Code)
	e.verify(t, e.addresses(t, int64(me.JSON(t)["pk"].(float64)))[0].ID)

	link := e.magicLink(t, "alice@example.com")
	require.NotEmpty(t, link)
	res, loc := e.followMagicLink(t, link)
	assert.Equal(t, "http://testserver/platform/login?magic_link_error=mfa_required", loc.String())
	assert.False(t, e.loggedIn(t, res, "alice"), "a link is no way around the second factor")
	assert.Empty(t, res.Result().Cookies(), "the session is left alone")
}

func TestMagicLinkRateLimitedWithPasswordReset(t *testing.T) {
	t.Parallel()
	e := magicEnv(t, func(c *restauth.Config) {
		c.RateLimits.ResetPerEmail = restauth.RateRule{Limit: 2, Window: time.Minute}
	})
	ctx := context.Background()
	require.NoError(t, e.svc.RequestPasswordReset(ctx, "x@example.com"))
	require.NoError(t, e.svc.RequestMagicLink(ctx, "x@example.com"))
	var throttled *restauth.ThrottledError
	require.ErrorAs(t, e.svc.RequestMagicLink(ctx, "x@example.com"), &throttled)
	res := e.do(http.MethodPost, magicGeneratePath, map[string]any{"email": "x@example.com"})
	assert.Equal(t, http.StatusTooManyRequests, res.Code)
}

// Known and unknown addresses answer alike and do the same work before answering: no
// lookup, no token, no rendering; the known one gets its link afterwards.
func TestMagicLinkEqualWorkBeforeAnswering(t *testing.T) {
	t.Parallel()
	w := &workCounter{}
	e := magicEnv(t, w.configure)
	w.hook(e.svc)
	w.sent.Add(1) // the signup confirmation
	e.verifiedUser(t, "known")
	w.sent.Wait()
	require.NoError(t, e.svc.Close(context.Background()))

	type work struct {
		store, mints, renders int64
		code                  int
		body                  string
	}
	measure := func(email string) work {
		w.reset()
		res := e.do(http.MethodPost, magicGeneratePath, map[string]any{"email": email})
		return work{w.store.calls.Load(), w.mints.Load(), w.renders.Load(), res.Code, res.Body.String()}
	}
	w.bgMints.Store(0)
	w.sent.Add(1)
	known := measure("known@example.com")
	unknown := measure("nobody@example.com")
	w.sent.Wait()
	require.NoError(t, e.svc.Close(context.Background()))
	assert.Equal(t, unknown, known, "the same answer and work before answering")
	assert.Equal(t, work{code: http.StatusOK, body: `{"status":"ok"}`}, known, "no lookup, token or rendering before answering")
	assert.Equal(t, int64(1), w.bgMints.Load(), "the known address got its link afterwards")
}

// Two requests racing with one link: one logs in.
func TestMagicLinkSingleUseUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := magicEnv(t)
	e.verifiedUser(t, "alice")
	link, err := url.Parse(e.magicLink(t, "alice@example.com"))
	require.NoError(t, err)
	token := link.Query().Get("sesame")
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := e.svc.MagicLogin(context.Background(), token)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, restauth.ErrMagicLinkInvalid):
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), ok.Load())
	assert.Equal(t, int64(7), refused.Load())
}
