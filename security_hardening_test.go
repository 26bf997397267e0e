package restauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// Regression tests of security review A (the 291 dialect, the middleware and the core
// password, session, token and e-mail operations). Each failed before its fix.

// loginCookies logs username in through the 291 login route and returns the sessionid
// and csrftoken cookies the answer set, and the sessionid cookie itself.
func loginCookies(t *testing.T, e *testEnv, username string) (sid, csrf string, c *http.Cookie) {
	t.Helper()
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": username, "password": goodPassword})
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	c = findSessionCookie(t, res.Header())
	require.NotNil(t, c)
	for _, rc := range res.Result().Cookies() {
		if rc.Name == "csrftoken" {
			csrf = rc.Value
		}
	}
	require.NotEmpty(t, csrf)
	return c.Value, csrf, c
}

// TestPasswordChangeRenewsSessionID: a password change keeps the changing session logged
// in, but under a new id (Django's update_session_auth_hash cycles the key), so a copy of
// the session cookie taken before the change — the reason many users change their
// password — stops working with it. Before the fix the id stayed and the copy followed
// the new password's auth hash.
func TestPasswordChangeRenewsSessionID(t *testing.T) {
	t.Parallel()
	inSessionBubble(t, func(t *testing.T, newEnv func(*testing.T, ...func(*restauth.Config)) *testEnv) {
		e := newEnv(t)
		u, _ := e.register("vera", goodPassword, "")
		sid, csrf, loginCookie := loginCookies(t, e, "vera")
		before, err := e.svc.UserSessions(context.Background(), u.ID)
		require.NoError(t, err)
		require.Len(t, before, 1)

		time.Sleep(time.Hour) // the bubble's clock: the session's absolute deadline must not move
		res := e.do(http.MethodPost, "/api/auth/password/change/",
			map[string]any{"old_password": goodPassword, "new_password1": newPassword, "new_password2": newPassword},
			withSessionID(sid), withCookie("csrftoken", csrf), withHeader("X-CSRFToken", csrf))
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		renewed := findSessionCookie(t, res.Header())
		require.NotNil(t, renewed, "the answer carries the session's new id")
		assert.NotEqual(t, sid, renewed.Value, "the session id is renewed")
		assert.Equal(t, loginCookie.Expires, renewed.Expires, "the renewal keeps the session's absolute lifetime")

		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(renewed.Value)).Code,
			"the changing session stays logged in under its new id")
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(sid)).Code,
			"a copy of the old session id is dead")

		after, err := e.svc.UserSessions(context.Background(), u.ID)
		require.NoError(t, err)
		require.Len(t, after, 1, "the session index follows the new id")
		assert.Equal(t, before[0].Created, after[0].Created, "the session keeps its login time in the index")
		assert.Equal(t, before[0].IP, after[0].IP)
	})
}

// TestSetPasswordRenewsSessionID: setting a first password (a provider-only account) is a
// password change for the session too: SetPassword renews the id of the session it keeps.
func TestSetPasswordRenewsSessionID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("wren", goodPassword, "")
	unusable := "!unusable"
	u, err := e.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{PasswordHash: &unusable})
	require.NoError(t, err)

	var loggedIn, renewed string
	h := e.svc.Sessions().LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, e.svc.LoginSession(r.Context(), u))
		loggedIn = e.svc.Sessions().Token(r.Context())
		_, err := e.svc.SetPassword(r.Context(), u, restauth.PasswordChange{New1: newPassword, New2: newPassword, Session: restauth.SessionKept})
		require.NoError(t, err)
		renewed = e.svc.Sessions().Token(r.Context())
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "http://testserver/", nil))
	require.NotEmpty(t, loggedIn)
	assert.NotEqual(t, loggedIn, renewed, "the session id is renewed by the password set")
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withSessionID(renewed)).Code,
		"the session stays logged in under its new id")
}

// textStrictStore refuses, as PostgreSQL does ("invalid byte sequence for encoding
// UTF8", SQLSTATE 22021), to look up text holding a NUL byte or invalid UTF-8.
type textStrictStore struct {
	*memstore.Store
}

func refusesText(s string) error {
	if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
		return errors.New("ERROR: invalid byte sequence for encoding \"UTF8\" (SQLSTATE 22021)")
	}
	return nil
}

func (s textStrictStore) UserByUsername(ctx context.Context, username string) (*restauth.User, error) {
	if err := refusesText(username); err != nil {
		return nil, err
	}
	return s.Store.UserByUsername(ctx, username)
}

func (s textStrictStore) UsersByEmail(ctx context.Context, email string) ([]*restauth.User, error) {
	if err := refusesText(email); err != nil {
		return nil, err
	}
	return s.Store.UsersByEmail(ctx, email)
}

// TestCredentialsNoStoreCanHoldAreWrongCredentials: a login name with a NUL byte or
// invalid UTF-8 — which a Basic header carries past the body decoder's checks — names
// no account and must fail as a wrong password, not reach a store that refuses such text
// (PostgreSQL) and come back as a 500 whose log line holds the typed name.
func TestCredentialsNoStoreCanHoldAreWrongCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.Store = textStrictStore{memstore.New()} })
	ctx := restauth.WithClient(context.Background(), restauth.Client{Addr: "192.0.2.1"})
	names := []struct{ name, username string }{
		{"NUL", "ada\x00"},
		{"NUL alone", "\x00"},
		{"invalid UTF-8", "ada\xff"},
	}
	for _, tc := range names {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.svc.AuthenticatePassword(ctx, tc.username, goodPassword)
			assert.ErrorIs(t, err, restauth.ErrInvalidCredentials)
			_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: tc.username, Password: goodPassword})
			assert.ErrorIs(t, err, restauth.ErrInvalidCredentials)

			basic := base64.StdEncoding.EncodeToString([]byte(tc.username + ":" + goodPassword))
			res := e.do(http.MethodGet, "/api/auth/user/", nil, withHeader("Authorization", "Basic "+basic))
			assert.Equal(t, http.StatusUnauthorized, res.Code, res.Body.String())
			assert.Equal(t, map[string]any{"detail": "Invalid username/password."}, res.JSON(t))
		})
	}
}

func (s textStrictStore) AddEmailAddress(ctx context.Context, a *restauth.EmailAddress) error {
	if err := refusesText(a.Email); err != nil {
		return err
	}
	return s.Store.AddEmailAddress(ctx, a)
}

// TestAddressesNoStoreCanHoldAreRefused: an address with invalid UTF-8 in its domain
// passed the e-mail validator (IDNA maps the bytes to U+FFFD), so a direct call, or a
// dialect that does not check the encoding first, reached a store that refuses such text:
// a 500 for a login by address, a failed mail job for a reset or a resend, a 500 for an
// added address. They are invalid addresses, or name nobody, as any other bad address.
func TestAddressesNoStoreCanHoldAreRefused(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	e := newEnv(t, func(c *restauth.Config) {
		c.Store = textStrictStore{memstore.New()}
		c.LoginByEmail = true
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	u, _ := e.register("ada", goodPassword, "ada@example.com")
	ctx := restauth.WithClient(context.Background(), restauth.Client{Addr: "192.0.2.1"})
	for _, bad := range []string{"ada@ex\xffample.com", "ada\xff@example.com"} {
		_, err := e.svc.Login(ctx, restauth.LoginRequest{Email: bad, Password: goodPassword})
		assert.ErrorIs(t, err, restauth.ErrInvalidCredentials, "login by %q", bad)

		var verr *restauth.ValidationError
		_, err = e.svc.AddEmailAddress(ctx, u.ID, bad)
		assert.ErrorAs(t, err, &verr, "adding %q", bad)
		err = e.svc.RequestPasswordReset(ctx, bad)
		assert.ErrorAs(t, err, &verr, "reset for %q", bad)
		assert.NoError(t, e.svc.ResendVerification(ctx, bad), "resend for %q", bad)
	}
	assert.NoError(t, e.svc.ResendVerification(ctx, "ada\x00@example.com"))
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, logs.String(), "no store was asked about text it cannot hold")
}

// FuzzHandlerNever500 sends arbitrary credentials, paths, media types and bodies through
// the 291 handlers over a store that refuses what PostgreSQL refuses: whatever a client
// sends, the answer is never a server error. (It found the Basic NUL above.)
func FuzzHandlerNever500(f *testing.F) {
	paths := []string{"/api/auth/login/", "/api/auth/user/", "/api/auth/registration/", "/api/auth/password/reset/",
		"/api/auth/password/reset/confirm/", "/api/auth/registration/resend-email/", "/api/auth/registration/verify-email/",
		"/api/auth/emails/", "/api/auth/logout/", "/api/user/token/?name=x", "/api/auth/registration/account-confirm-email/k/"}
	for i, seed := range []struct{ auth, ct, body string }{
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("ada:"+goodPassword)), "application/json", `{}`},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("a\x00:b")), "", ""},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("\xff\xfe:b")), "", ""},
		{"Token \x00", "application/json", `{"username": "ada", "password": "x"}`},
		{"", "application/json", `{"email": "ada@ex\u00ffample.com", "key": "a:b:c", "uid": "zz", "token": "1-2"}`},
		{"", "application/x-www-form-urlencoded", "username=ada&password=%00&email=a%40b.c"},
		{"", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.c\r\n--X--\r\n"},
	} {
		f.Add(uint8(i), "POST", seed.auth, seed.ct, seed.body)
	}
	// One Service for every input (the first input's t builds it): the handlers must hold
	// whatever state earlier inputs left.
	var (
		once sync.Once
		e    *testEnv
	)
	f.Fuzz(func(t *testing.T, path uint8, method, auth, contentType, body string) {
		once.Do(func() {
			e = newEnv(t, func(c *restauth.Config) { c.Store = textStrictStore{memstore.New()} })
			e.register("ada", goodPassword, "ada@example.com")
		})
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") || !utf8.ValidString(method) {
			method = http.MethodPost
		}
		req := httptest.NewRequest(http.MethodGet, paths[int(path)%len(paths)], strings.NewReader(body))
		req.Method = method
		if auth != "" {
			req.Header["Authorization"] = []string{auth}
		}
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		rec := httptest.NewRecorder()
		e.mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (Authorization %q, Content-Type %q, body %q): %d %s", method, req.URL, auth, contentType, body, rec.Code, rec.Body)
		}
	})
}

// countingReader serves n bytes of 'a' and counts what was read.
type countingReader struct{ n, read int }

func (c *countingReader) Read(p []byte) (int, error) {
	if c.read >= c.n {
		return 0, io.EOF
	}
	k := min(len(p), c.n-c.read)
	for i := range p[:k] {
		p[i] = 'a'
	}
	c.read += k
	return k, nil
}

// TestCheckCSRFBoundsTheFormItReads: CheckCSRF parses an HTML form's body for its
// csrfmiddlewaretoken before anything is authenticated (the headless dialect calls it
// for every unsafe browser request). It read what net/http's ParseForm reads of an
// unbounded body, up to 10 MB, whatever Config.MaxBodyBytes says.
func TestCheckCSRFBoundsTheFormItReads(t *testing.T) {
	t.Parallel()
	const limit = 1 << 12
	e := newEnv(t, func(c *restauth.Config) { c.MaxBodyBytes = limit })
	body := &countingReader{n: 4 << 20}
	r := httptest.NewRequest(http.MethodPost, "http://testserver/_allauth/browser/v1/auth/login", body)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	err := e.svc.CheckCSRF(r)
	var perr *restauth.PermissionError
	require.ErrorAs(t, err, &perr)
	assert.LessOrEqual(t, body.read, 2*limit, "at most MaxBodyBytes of the form is read")
}

// TestLoginAsAnotherUserStartsAnEmptySession: a login into a session that is logged in
// as somebody else (a shared browser, no logout in between) starts from an empty session,
// as Django's login() flushes it: nothing the host or a flow kept for the first user
// (a half-finished flow, the host's own values) carries over to the second. The same
// user logging in again keeps the session's data, as Django's cycle_key does.
func TestLoginAsAnotherUserStartsAnEmptySession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first, _ := e.register("fern", goodPassword, "")
	second, _ := e.register("gale", goodPassword, "")
	sm := e.svc.Sessions()
	var kept, afterOther string
	var userAfter *restauth.User
	h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		require.NoError(t, e.svc.LoginSession(ctx, first))
		sm.Put(ctx, "host.cart", "fern's cart")
		require.NoError(t, e.svc.LoginSession(ctx, first))
		kept = sm.GetString(ctx, "host.cart")
		require.NoError(t, e.svc.LoginSession(ctx, second))
		afterOther = sm.GetString(ctx, "host.cart")
		var err error
		userAfter, err = e.svc.SessionUser(ctx)
		require.NoError(t, err)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "http://testserver/", nil))
	assert.Equal(t, "fern's cart", kept, "the same user's new login keeps the session's data")
	assert.Empty(t, afterOther, "another user's login starts from an empty session")
	require.NotNil(t, userAfter)
	assert.Equal(t, second.ID, userAfter.ID)

	// The same through a login whose second factor is due: the pending login empties the
	// session, as the login that completes it finds no login of its own to compare.
	var afterPending string
	h = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		require.NoError(t, e.svc.LoginSession(ctx, first))
		sm.Put(ctx, "host.cart", "fern's cart")
		require.NoError(t, e.svc.PutPendingLogin(ctx, restauth.PendingLogin{UserID: second.ID, AuthHash: "gale's", Expires: e.clock.Now().Add(time.Minute)}))
		afterPending = sm.GetString(ctx, "host.cart")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "http://testserver/", nil))
	assert.Empty(t, afterPending, "another user's pending login starts from an empty session")
}

// TestPrimaryEmailProbesAreLimited: making an unverified address primary is refused when
// another account holds it verified, and says so. Under mandatory verification and
// enumeration prevention, registration hides exactly that, yet any account (one without
// a verified primary: it can remove its only address) could test address after address
// this way, without limit. The attempts now count per user before the check
// (RateLimits.PrimaryEmailPerUser); over the limit, a held and a free address get the
// same 429.
func TestPrimaryEmailProbesAreLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) {
		c.EmailVerification = restauth.VerificationMandatory
		c.RateLimits.PrimaryEmailPerUser = restauth.RateRule{Limit: 3, Window: time.Hour}
	})
	ctx := context.Background()
	victim, _ := e.register("hugo", goodPassword, "hugo@example.com")
	addrs, err := e.store.EmailAddresses(ctx, victim.ID)
	require.NoError(t, err)
	_, err = e.store.VerifyEmailAddress(ctx, addrs[0].ID, true)
	require.NoError(t, err)
	prober, _ := e.register("ivy", goodPassword, "")

	probe := func(email string) error {
		t.Helper()
		a, err := e.svc.AddEmailAddress(ctx, prober.ID, email)
		require.NoError(t, err)
		_, err = e.svc.SetPrimaryEmail(ctx, prober.ID, a.ID)
		_, rerr := e.svc.RemoveEmailAddress(ctx, prober.ID, a.ID)
		require.NoError(t, rerr)
		return err
	}
	assert.ErrorIs(t, probe("hugo@example.com"), restauth.ErrEmailVerifiedElsewhere, "within the limit the answer still tells")
	assert.NoError(t, probe("nobody-1@example.com"))
	assert.NoError(t, probe("nobody-2@example.com"))
	for _, email := range []string{"hugo@example.com", "nobody-3@example.com"} {
		err := probe(email)
		var throttled *restauth.ThrottledError
		assert.ErrorAs(t, err, &throttled, "over the limit %s is refused unchecked", email)
		assert.NotErrorIs(t, err, restauth.ErrEmailVerifiedElsewhere)
	}
	assert.True(t, restauth.DefaultRateLimits().PrimaryEmailPerUser.Enabled(), "on by default")
}

// TestProfileTextNoStoreCanHoldIsRefused: UpdateProfile called directly with invalid
// UTF-8 (which the body decoders never pass on) is a field error, not a store failure.
func TestProfileTextNoStoreCanHoldIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("jade", goodPassword, "")
	bad := "J\xffade"
	// Username's own validator already refused it; the names had no check.
	for _, upd := range []restauth.ProfileUpdate{{FirstName: &bad}, {LastName: &bad}, {Username: &bad}} {
		_, err := e.svc.UpdateProfile(context.Background(), u.ID, upd)
		var verr *restauth.ValidationError
		assert.ErrorAs(t, err, &verr)
	}
	fresh, err := e.store.UserByID(context.Background(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, "", fresh.FirstName)
	assert.Equal(t, "jade", fresh.Username)
}

// TestAnswersCarryingKeysAreNotCached: the answers that carry an API token key (login,
// registration's token answer, GET /api/user/token/) say Cache-Control: no-store, as the
// MFA answers carrying secrets already did: a year-long key must not stay in a browser's
// disk cache or in a proxy's.
func TestAnswersCarryingKeysAreNotCached(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.RegistrationTokenAnswer = true })
	e.register("kai", goodPassword, "")
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		opts   []reqOpt
		status int
	}{
		{"login", http.MethodPost, "/api/auth/login/", map[string]any{"username": "kai", "password": goodPassword}, nil, http.StatusOK},
		{"registration", http.MethodPost, "/api/auth/registration/", registration("lea", "-", goodPassword, goodPassword), nil, http.StatusCreated},
		{"named token", http.MethodGet, "/api/user/token/?name=script", nil, []reqOpt{withBasic("kai", goodPassword)}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, tc.path, tc.body, tc.opts...)
			require.Equal(t, tc.status, res.Code, res.Body.String())
			assert.Contains(t, res.Header().Values("Cache-Control"), "no-store")
		})
	}
}

// A reverse proxy on a Unix socket (RemoteAddr "@") is trusted only with
// Config.TrustSocketProxy: then the client's address comes from its X-Forwarded-For and
// the per-address limits apply; without it the request has no address, and the header a
// client could write itself is ignored.
func TestSocketProxyIsTrustedOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		trust bool
		want  string
	}{
		{"untrusted socket peer: no address", false, ""},
		{"trusted socket proxy: its X-Forwarded-For", true, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			audit := &auditLog{}
			e := newEnv(t, func(c *restauth.Config) {
				c.TrustSocketProxy = tc.trust
				c.Audit = audit.record
			})
			e.register("sockets", goodPassword, "sockets@example.com")
			res := e.do(http.MethodPost, "/api/auth/login/", map[string]string{"username": "sockets", "password": "wrong"},
				func(r *http.Request) {
					r.RemoteAddr = "@"
					r.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.9")
				})
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			failed := audit.ofKind(restauth.AuditLoginFailed)
			require.Len(t, failed, 1)
			assert.Equal(t, tc.want, failed[0].IP)
		})
	}
}
