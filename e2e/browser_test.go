package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// captureMailer keeps every message so the test can follow the links in them.
type captureMailer struct {
	mu   sync.Mutex
	msgs []*restauth.Message
}

func (m *captureMailer) Send(_ context.Context, msg *restauth.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	return nil
}

// noRateLimits turns every rate rule off: the browser logs in repeatedly from one address.
func noRateLimits() restauth.RateLimits {
	off := restauth.RateRule{Limit: -1}
	return restauth.RateLimits{LoginFailedPerAccount: off, LoginFailedPerIP: off, ResetPerIP: off,
		ResetPerEmail: off, SignupPerIP: off, PasswordChangePerUser: off, ResendPerEmail: off, MFAFailedPerUser: off,
		BodyPerIP: off, LoginFailedPerAccountDaily: off, MFAFailedPerUserIP: off, MailPerRecipient: off}
}

// browserPath finds a Chromium or Chrome binary; the test skips without one.
func browserPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserEnv is a host serving restauth's /api/ tree and the UI page, and a headless browser.
type browserEnv struct {
	t      *testing.T
	url    string
	svc    *restauth.Service
	mailer *captureMailer
	ctx    context.Context
	// skew moves the Service's clock ahead (Config.Now), so a TOTP code of a later step can
	// be used after the activation code without waiting for the next 30-second step.
	skew atomic.Int64
}

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	bin := browserPath()
	if bin == "" {
		t.Skip("no chromium, chromium-browser or google-chrome binary in PATH: the browser test needs one (Debian: apt-get install chromium)")
	}
	e := &browserEnv{t: t, mailer: &captureMailer{}}
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.Start()
	t.Cleanup(srv.Close)
	// localhost, not 127.0.0.1: SiteURL's origin is what the browser sends as Origin.
	e.url = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	svc, err := restauth.New(restauth.Config{
		Store:      memstore.New(),
		Secret:     []byte("e2e-secret-e2e-secret-e2e-secret-0123456789"),
		SiteURL:    e.url,
		Passwords:  restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mail:       restauth.MailConfig{Mailer: e.mailer, SendInRequest: true},
		RateLimits: noRateLimits(),
		Now:        e.now,
		MagicLink:  restauth.MagicLinkConfig{Enabled: true},
		MFA:        restauth.MFAConfig{Enabled: true},
	})
	require.NoError(t, err)
	e.svc = svc
	mux.Handle("/api/", svc.APIHandler())
	// The UI page stands in for every SPA route (/platform/login, /platform/set-password, …).
	servePage(mux, uiPage)
	e.ctx = startBrowser(t, bin)
	require.NoError(t, chromedp.Do(e.ctx, chromedp.Navigate(e.url+"/")), "open the UI page")
	return e
}

// servePage answers every path of mux that nothing else claims with page.
func servePage(mux *http.ServeMux, page string) {
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	})
}

// startBrowser starts headless Chromium at bin and returns its context: every wait in a
// test is bounded by this one 60 s deadline.
func startBrowser(t *testing.T, bin string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.ExecPath(bin),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

func (e *browserEnv) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

// open navigates to a path or an absolute URL on the site and waits for the UI page.
func (e *browserEnv) open(target string) {
	e.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = e.url + target
	}
	require.NoError(e.t, chromedp.Do(e.ctx, chromedp.Navigate(target), chromedp.WaitReady(chromedp.CSS("#log"))), target)
}

// path is the page's current path.
func (e *browserEnv) path() string {
	e.t.Helper()
	loc, err := chromedp.Run(e.ctx, chromedp.Location())
	require.NoError(e.t, err)
	u, err := url.Parse(loc)
	require.NoError(e.t, err)
	return u.Path
}

// mailLink is the site link in the last mail to addr whose link contains part.
func (e *browserEnv) mailLink(addr, part string) string {
	e.t.Helper()
	e.mailer.mu.Lock()
	defer e.mailer.mu.Unlock()
	for i := len(e.mailer.msgs) - 1; i >= 0; i-- {
		m := e.mailer.msgs[i]
		if !strings.Contains(strings.Join(m.To, ","), addr) {
			continue
		}
		for _, link := range linkRE.FindAllString(m.Text, -1) {
			if strings.HasPrefix(link, e.url) && strings.Contains(link, part) {
				return link
			}
		}
	}
	for _, m := range e.mailer.msgs {
		e.t.Logf("mail to %v: %s\n%s", m.To, m.Subject, m.Text)
	}
	require.FailNow(e.t, "no mail link", "to %s containing %q", addr, part)
	return ""
}

var linkRE = regexp.MustCompile(`https?://[^\s<>"]+`)

// totpCode is RFC 6238's code (SHA-1, 6 digits, 30 s) of secret at t, written here because
// restauth's internal/otptest is not importable from this module.
func totpCode(t *testing.T, otpauth string, at time.Time) string {
	t.Helper()
	u, err := url.Parse(otpauth)
	require.NoError(t, err)
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(u.Query().Get("secret")), "="))
	require.NoError(t, err)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1_000_000)
}

// run calls one of the page's UI functions and decodes what it resolves to.
func (e *browserEnv) run(expr string) map[string]any {
	e.t.Helper()
	s, err := chromedp.Run(e.ctx, chromedp.Evaluate[string]("(async () => JSON.stringify(await "+expr+"))()", chromedp.EvalAwaitPromise))
	require.NoError(e.t, err, expr)
	var out map[string]any
	require.NoError(e.t, json.Unmarshal([]byte(s), &out), expr)
	return out
}

// reload reloads the page, which loses the in-memory token as the UI does.
func (e *browserEnv) reload() {
	e.t.Helper()
	require.NoError(e.t, chromedp.Do(e.ctx, chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("#log"))))
}

// resp picks one answer ({status, data}) out of a page result.
func resp(t *testing.T, m map[string]any, key string) (int, map[string]any) {
	t.Helper()
	r, ok := m[key].(map[string]any)
	require.True(t, ok, "answer %q missing in %v", key, m)
	data, _ := r["data"].(map[string]any)
	return int(r["status"].(float64)), data
}

// TestBrowserInvenTreeUI runs InvenTree 291's web-UI requests (CLIENT.md §2) in Chromium:
// registration, session login with CSRF, restoring the token after a reload, and logout.
func TestBrowserInvenTreeUI(t *testing.T) {
	e := newBrowserEnv(t)

	var st int
	var data map[string]any
	prov := e.run("providers()")
	assert.Equal(t, float64(200), prov["status"])
	assert.Contains(t, prov["data"], "registration_enabled")

	// §2.6: the UI counts only a 204 as success.
	reg := e.run(`register("alice", "alice@example.com", "S3cure-Passw0rd!")`)
	st, _ = resp(t, reg, "resp")
	assert.Equal(t, http.StatusNoContent, st)
	assert.Equal(t, true, reg["success"])
	e.run("logout()")

	// A taken username is a 400 with a field error, which the UI shows on the form.
	dup := e.run(`register("alice", "other@example.com", "S3cure-Passw0rd!")`)
	st, data = resp(t, dup, "resp")
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Contains(t, data, "username")
	assert.Equal(t, false, dup["success"])

	// §2.2: wrong password is a plain 400; the right one gives data.key and user/me/.
	bad := e.run(`login("alice", "wrong-password")`)
	st, _ = resp(t, bad, "login")
	assert.Equal(t, http.StatusBadRequest, st)
	assert.NotContains(t, bad, "me")

	in := e.run(`login("alice", "S3cure-Passw0rd!")`)
	st, data = resp(t, in, "login")
	require.Equal(t, http.StatusOK, st)
	key, _ := data["key"].(string)
	require.NotEmpty(t, key)
	assert.Equal(t, true, in["cookieAfterLogin"], "login sets a fresh csrftoken the page can read")
	st, data = resp(t, in, "me")
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, "alice", data["username"])
	assert.Equal(t, "alice@example.com", data["email"])

	// §2.5: a reload loses the token; the session alone gets the unnamed token, which the
	// UI reads from data.token, and the next reload gets the same one again.
	// Not asserted: that it equals the login's key (CLIENT.md says InvenTree hands out the
	// same; here login's key is not kept sealed, so user/token/ mints its own).
	var restored string
	for range 2 {
		e.reload()
		back := e.run("restore()")
		assert.Equal(t, true, back["hasCookie"])
		st, data = resp(t, back, "token")
		require.Equal(t, http.StatusOK, st)
		tok, _ := data["token"].(string)
		require.NotEmpty(t, tok)
		if restored != "" {
			assert.Equal(t, restored, tok, "the session's unnamed token is stable across reloads")
		}
		restored = tok
		st, data = resp(t, back, "me")
		assert.Equal(t, http.StatusOK, st)
		assert.Equal(t, "alice", data["username"])
	}

	// §2.3: logout deletes the unnamed token and flushes the session.
	out := e.run("logout()")
	st, _ = resp(t, out, "logout")
	assert.Equal(t, http.StatusOK, st)
	st, _ = resp(t, out, "meWithOldToken")
	assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, st)
	st, _ = resp(t, out, "tokenBySession")
	assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, st)

	e.reload()
	gone := e.run("restore()")
	assert.NotContains(t, gone, "me")
}

// TestBrowserMFAPage runs the web UI's MFA fallback (CLIENT.md §2.2 step 6): the JSON 403,
// the hidden form with csrfmiddlewaretoken and mfa=true, the server's second-factor page,
// a wrong and then a right TOTP code, and the session restore that follows.
func TestBrowserMFAPage(t *testing.T) {
	e := newBrowserEnv(t)
	ctx := context.Background()
	const pw = "B0b-S3cure-Passw0rd!"
	reg, err := e.svc.Register(ctx, restauth.RegisterRequest{Username: "bob", Email: "bob@example.com", Password1: pw, Password2: pw})
	require.NoError(t, err)
	status, err := e.svc.TOTPStatus(ctx, reg.User)
	require.NoError(t, err)
	_, err = e.svc.ActivateTOTP(ctx, reg.User, totpCode(t, status.URL, e.now()))
	require.NoError(t, err)
	// Three steps later: the activation's step is spent, and the login uses a fresh one.
	e.skew.Store(int64(90 * time.Second))

	res := e.run(`mfaLogin("bob", "` + pw + `")`)
	st, data := resp(t, res, "login")
	require.Equal(t, http.StatusForbidden, st)
	assert.Equal(t, "MFA required for this user", data["detail"])
	require.Equal(t, true, res["submitted"])
	require.NoError(t, chromedp.Do(e.ctx, chromedp.WaitVisible(chromedp.CSS("#otp_token"))))
	assert.Equal(t, "/api/auth/login/mfa/", e.path())

	right := totpCode(t, status.URL, e.now())
	wrong := totpCode(t, status.URL, e.now().Add(-time.Hour))
	if wrong == right {
		wrong = totpCode(t, status.URL, e.now().Add(-2*time.Hour))
	}
	require.NoError(t, chromedp.Do(e.ctx, chromedp.SendKeys(chromedp.CSS("#otp_token"), wrong), chromedp.Click(chromedp.CSS("button")),
		chromedp.WaitVisible(chromedp.CSS("p.error"))))
	msg, err := chromedp.Run(e.ctx, chromedp.Text(chromedp.CSS("p.error")))
	require.NoError(t, err)
	assert.Equal(t, "The token entered was incorrect. Please try again.", msg)

	require.NoError(t, chromedp.Do(e.ctx, chromedp.SendKeys(chromedp.CSS("#otp_token"), right),
		chromedp.Click(chromedp.CSS("button")), chromedp.WaitReady(chromedp.CSS("#log"))))
	assert.Equal(t, "/platform", e.path())
	back := e.run("restore()")
	st, data = resp(t, back, "token")
	require.Equal(t, http.StatusOK, st)
	assert.NotEmpty(t, data["token"])
	st, data = resp(t, back, "me")
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, "bob", data["username"])
}

// TestBrowserMailFlows follows the mailed links in the browser: the e-mail confirmation page
// (open the link, click Confirm), password reset through the set-password page (§2.4), and
// the magic link (§2.9).
func TestBrowserMailFlows(t *testing.T) {
	e := newBrowserEnv(t)
	const pw, newPW = "C4rol-S3cure-Passw0rd!", "C4rol-N3w-Passw0rd!"
	reg := e.run(`register("carol", "carol@example.com", "` + pw + `")`)
	require.Equal(t, true, reg["success"])
	e.run("logout()")

	// Confirmation page: the link shows the address and a Confirm button; the post ends on
	// the login page, and the address is verified.
	e.open("/")
	confirm := e.mailLink("carol@example.com", "/api/auth/")
	require.NoError(t, chromedp.Do(e.ctx, chromedp.Navigate(confirm), chromedp.WaitVisible(chromedp.CSS("span.email"))))
	shown, err := chromedp.Run(e.ctx, chromedp.Text(chromedp.CSS("span.email")))
	require.NoError(t, err)
	assert.Equal(t, "carol@example.com", shown)
	require.NoError(t, chromedp.Do(e.ctx, chromedp.Click(chromedp.CSS("button")), chromedp.WaitReady(chromedp.CSS("#log"))))
	assert.Equal(t, "/platform/login", e.path())
	in := e.run(`login("carol", "` + pw + `")`)
	st, _ := resp(t, in, "login")
	require.Equal(t, http.StatusOK, st)
	list := e.run(`emails().then(r => ({r: r}))`)
	r := list["r"].(map[string]any)
	require.Equal(t, float64(200), r["status"])
	addrs := r["data"].([]any)
	require.Len(t, addrs, 1)
	assert.Equal(t, "carol@example.com", addrs[0].(map[string]any)["email"])
	assert.Equal(t, true, addrs[0].(map[string]any)["verified"])
	e.run("logout()")

	// Password reset: request, open the mailed set-password link, set a new password.
	e.open("/platform/login")
	req := e.run(`resetRequest("carol@example.com").then(r => ({r: r}))`)
	st, _ = resp(t, req, "r")
	require.Equal(t, http.StatusOK, st)
	e.open(e.mailLink("carol@example.com", "/platform/set-password"))
	set := e.run(`setPassword("` + newPW + `").then(r => ({r: r}))`)
	st, _ = resp(t, set, "r")
	require.Equal(t, http.StatusOK, st)
	old := e.run(`login("carol", "` + pw + `")`)
	st, _ = resp(t, old, "login")
	assert.Equal(t, http.StatusBadRequest, st)
	in = e.run(`login("carol", "` + newPW + `")`)
	st, _ = resp(t, in, "login")
	require.Equal(t, http.StatusOK, st)
	e.run("logout()")

	// Magic link: a plain request, {"status": "ok"}, and the mailed link logs the session in
	// and ends on the page that restores it.
	e.open("/platform/login")
	ml := e.run(`magicLink("carol@example.com")`)
	assert.Equal(t, float64(200), ml["status"])
	assert.Equal(t, "ok", ml["data"].(map[string]any)["status"])
	e.open(e.mailLink("carol@example.com", "/api/email/login/"))
	assert.Equal(t, "/platform/logged-in/", e.path())
	back := e.run("restore()")
	st, data := resp(t, back, "me")
	assert.Equal(t, http.StatusOK, st)
	assert.Equal(t, "carol", data["username"])
}
