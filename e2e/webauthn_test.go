package e2e

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/memstore"
)

// newPasskeyEnv serves the headless API with WebAuthn, passkey login and signup on, the
// 291 dialect, and the test's page (at every other path), at http://localhost:PORT (a relying party id cannot be an IP address), and opens
// the page in Chromium with a DevTools virtual authenticator: CTAP2, internal transport
// (a platform authenticator), resident keys, user verification that succeeds.
func newPasskeyEnv(t *testing.T) (*browserEnv, *restauth.Service) {
	t.Helper()
	bin := browserPath()
	if bin == "" {
		t.Skip("no chromium, chromium-browser or google-chrome binary in PATH: the browser test needs one (Debian: apt-get install chromium)")
	}
	e := &browserEnv{t: t, mailer: &captureMailer{}}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.url = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	svc, err := restauth.New(restauth.Config{
		Store:      memstore.New(),
		Secret:     []byte("e2e-secret-e2e-secret-e2e-secret-0123456789"),
		SiteURL:    e.url,
		Passwords:  restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1},
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mail:       restauth.MailConfig{Mailer: e.mailer, SendInRequest: true},
		RateLimits: noRateLimits(),
		MFA:        restauth.MFAConfig{Enabled: true},
		WebAuthn:   restauth.WebAuthnConfig{Enabled: true, PasskeyLogin: true, PasskeySignup: true},
	})
	require.NoError(t, err)
	e.svc = svc
	mux.Handle("/_allauth/", headless.Handler(svc, headless.Options{}))
	mux.Handle("/api/", svc.APIHandler()) // the 291 dialect, for its second-factor page
	servePage(mux, webauthnPage)
	bctx := startBrowser(t, bin)
	e.ctx = bctx
	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(e.url+"/"), chromedp.WaitReady(chromedp.CSS("#log"))), "open the page")
	_, err = chromedp.Call(bctx, webauthn.Enable, webauthn.EnableParams{})
	require.NoError(t, err, "WebAuthn.enable")
	_, err = chromedp.Call(bctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol:                    webauthn.AuthenticatorProtocolCtap2,
		Ctap2version:                webauthn.Ctap2versionCtap21,
		Transport:                   webauthn.AuthenticatorTransportInternal,
		HasResidentKey:              true,
		HasUserVerification:         true,
		IsUserVerified:              true,
		AutomaticPresenceSimulation: true,
	}})
	require.NoError(t, err, "WebAuthn.addVirtualAuthenticator")
	return e, svc
}

// TestBrowserPasskeys runs passkeys in Chromium through the headless browser client
// (cookie + CSRF): signup by password, a passkey added, logout, passkey login, and the
// passkey as the second factor after the password (TestBrowserPasskeySignup signs up
// with a passkey; TestBrowserSecondFactorPageKey uses the key on the 291 page).
// answerOf picks one headless answer out of a page result: its status, data and meta.
func answerOf(t *testing.T, m map[string]any, key string) (int, map[string]any, map[string]any) {
	t.Helper()
	r, ok := m[key].(map[string]any)
	require.True(t, ok, "answer %q missing in %v", key, m)
	env, _ := r["data"].(map[string]any)
	data, _ := env["data"].(map[string]any)
	meta, _ := env["meta"].(map[string]any)
	assert.Equal(t, r["status"], env["status"], "the body's status is the HTTP status")
	return int(r["status"].(float64)), data, meta
}

// envelopeOf is answerOf without meta.
func envelopeOf(t *testing.T, m map[string]any, key string) (int, map[string]any) {
	t.Helper()
	status, data, _ := answerOf(t, m, key)
	return status, data
}

func TestBrowserPasskeys(t *testing.T) {
	e, _ := newPasskeyEnv(t)

	status, data := envelopeOf(t, e.run(`signup("ada", "ada@example.test", "analytical-engine-1843")`), "signup")
	require.Equal(t, 200, status, "%v", data)

	r := e.run(`addPasskey("Laptop")`)
	status, data = envelopeOf(t, r, "options")
	require.Equal(t, 200, status, "%v", data)
	status, data = envelopeOf(t, r, "add")
	require.Equal(t, 200, status, "%v", data)
	assert.Equal(t, "webauthn", data["type"])
	assert.Equal(t, "Laptop", data["name"])
	assert.Equal(t, true, data["is_passwordless"])
	_, _, meta := answerOf(t, r, "add")
	assert.Equal(t, map[string]any{"recovery_codes_generated": true}, meta)

	status, _ = envelopeOf(t, e.run(`logout()`), "logout")
	require.Equal(t, 401, status)
	status, _ = envelopeOf(t, e.run(`session()`), "session")
	require.Equal(t, 401, status)

	r = e.run(`passkeyLogin()`)
	status, data = envelopeOf(t, r, "finish")
	require.Equal(t, 200, status, "%v", data)
	assert.Equal(t, "ada", data["user"].(map[string]any)["username"])
	methods, _ := data["methods"].([]any)
	require.Len(t, methods, 1, "%v", data)
	assert.Equal(t, "mfa", methods[0].(map[string]any)["method"])
	assert.Equal(t, "webauthn", methods[0].(map[string]any)["type"])
	status, _ = envelopeOf(t, e.run(`session()`), "session")
	require.Equal(t, 200, status, "the passkey's session")

	status, _ = envelopeOf(t, e.run(`logout()`), "logout")
	require.Equal(t, 401, status)
	status, data = envelopeOf(t, e.run(`passwordLogin("ada", "analytical-engine-1843")`), "login")
	require.Equal(t, 401, status, "the key is a second factor now")
	flows, _ := data["flows"].([]any)
	var pending map[string]any
	for _, f := range flows {
		if m := f.(map[string]any); m["id"] == "mfa_authenticate" {
			pending = m
		}
	}
	require.NotNil(t, pending, "%v", data)
	assert.Contains(t, pending["types"], "webauthn")
	r = e.run(`secondFactor()`)
	status, data = envelopeOf(t, r, "finish")
	require.Equal(t, 200, status, "%v", data)
	assert.Len(t, data["methods"], 2, "password and mfa")
	status, _ = envelopeOf(t, e.run(`session()`), "session")
	assert.Equal(t, 200, status)
}

var signupCodeRE = regexp.MustCompile(`\b[CDFGHJKLMNPQRSTVWXY345679]{6}\b`)

// mailedCode is the code in the newest mail to addr.
func (e *browserEnv) mailedCode(addr string) string {
	e.t.Helper()
	e.mailer.mu.Lock()
	defer e.mailer.mu.Unlock()
	for i := len(e.mailer.msgs) - 1; i >= 0; i-- {
		if m := e.mailer.msgs[i]; slices.Contains(m.To, addr) {
			code := signupCodeRE.FindString(m.Text)
			require.NotEmpty(e.t, code, "no code in %q", m.Text)
			return code
		}
	}
	require.FailNow(e.t, "no mail", "to %s", addr)
	return ""
}

// pendingFlow is the id of the pending flow of a 401 answer's data.
func pendingFlow(data map[string]any) string {
	flows, _ := data["flows"].([]any)
	for _, f := range flows {
		if m := f.(map[string]any); m["is_pending"] == true {
			return m["id"].(string)
		}
	}
	return ""
}

// TestBrowserPasskeySignup signs up with a passkey in Chromium: the address by the mailed
// code, then the passkey the virtual authenticator makes; logout, and the passkey logs in.
func TestBrowserPasskeySignup(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	status, data := envelopeOf(t, e.run(`passkeySignup("nova@example.test", "nova")`), "start")
	require.Equal(t, 401, status, "%v", data)
	assert.Equal(t, "verify_email", pendingFlow(data))
	status, data = envelopeOf(t, e.run(`verifyEmail("`+e.mailedCode("nova@example.test")+`")`), "verify")
	require.Equal(t, 401, status, "%v", data)
	assert.Equal(t, "mfa_signup_webauthn", pendingFlow(data))

	r := e.run(`createPasskeyAccount("Laptop")`)
	status, data = envelopeOf(t, r, "options")
	require.Equal(t, 200, status, "%v", data)
	status, data = envelopeOf(t, r, "finish")
	require.Equal(t, 200, status, "%v", data)
	user := data["user"].(map[string]any)
	assert.Equal(t, "nova", user["username"])
	assert.Equal(t, false, user["has_usable_password"])

	status, _ = envelopeOf(t, e.run(`logout()`), "logout")
	require.Equal(t, 401, status)
	status, data = envelopeOf(t, e.run(`passkeyLogin()`), "finish")
	require.Equal(t, 200, status, "%v", data)
	assert.Equal(t, "nova", data["user"].(map[string]any)["username"])
}

// plainOf picks one 291 answer (no envelope) out of a page result: its status and body.
func plainOf(t *testing.T, m map[string]any, key string) (int, map[string]any) {
	t.Helper()
	r, ok := m[key].(map[string]any)
	require.True(t, ok, "answer %q missing in %v", key, m)
	body, _ := r["body"].(map[string]any)
	return int(r["status"].(float64)), body
}

// TestBrowserSecondFactorPageKey finishes a 291 login in Chromium with a key on the
// second-factor page: the page's script (allowed by its hash alone) asks the virtual
// authenticator and posts the assertion, and the browser lands logged in.
func TestBrowserSecondFactorPageKey(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	status, data := envelopeOf(t, e.run(`signup("ada", "ada@example.test", "analytical-engine-1843")`), "signup")
	require.Equal(t, 200, status, "%v", data)
	status, data = envelopeOf(t, e.run(`addPasskey("Laptop")`), "add")
	require.Equal(t, 200, status, "%v", data)
	status, _ = envelopeOf(t, e.run(`logout()`), "logout")
	require.Equal(t, 401, status)

	status, body := plainOf(t, e.run(`mfaFormLogin("ada", "analytical-engine-1843")`), "json")
	require.Equal(t, 403, status, "%v", body)
	assert.Equal(t, "MFA required for this user", body["detail"])
	require.NoError(t, chromedp.Do(e.ctx,
		chromedp.WaitVisible(chromedp.ID("webauthn-button")),
		chromedp.Click(chromedp.ID("webauthn-button")),
		chromedp.WaitReady(chromedp.CSS("#log")), // back on the test's page, at Links.AfterLogin
	), "the key on the second-factor page")
	location, err := chromedp.Run(e.ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, e.url+"/platform", location)
	status, body = plainOf(t, e.run(`me291()`), "me")
	require.Equal(t, 200, status, "%v", body)
	assert.Equal(t, "ada", body["username"], "the 291 session is ada's")
}
