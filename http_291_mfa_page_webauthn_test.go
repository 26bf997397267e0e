package restauth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/webauthntest"
)

// withPageWebAuthn turns WebAuthn on with a relying party (a domain, which "testserver"
// is not), keeping the 291 tests' origin trusted and their site name.
func withPageWebAuthn(c *restauth.Config) {
	c.SiteURL, c.SiteName = pageSite, "testserver"
	c.TrustedOrigins = []string{"http://testserver"}
	c.MFA.Enabled = true
	c.WebAuthn.Enabled = true
}

const (
	pageSite = "http://testserver.example"
	pageRPID = "testserver.example"
)

var (
	pageOptionsRE = regexp.MustCompile(`data-options="([^"]*)"`)
	pageScriptRE  = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
)

// keyPage reads the second-factor page of a user with a key: its assertion options, after
// checking that the only script is the one its Content-Security-Policy allows.
func keyPage(t *testing.T, res response, status int) (body string, options []byte) {
	t.Helper()
	require.Equal(t, status, res.Code, res.Body.String())
	body = res.Body.String()
	assert.Contains(t, body, `id="webauthn-form"`)
	scripts := pageScriptRE.FindAllStringSubmatch(body, -1)
	require.Len(t, scripts, 1, "one script")
	sum := sha256.Sum256([]byte(scripts[0][1]))
	csp := res.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", "allowed by its hash alone")
	assert.Contains(t, csp, "default-src 'none'")
	assert.NotContains(t, csp, "unsafe-inline'; script", "no inline scripts beyond it")
	assert.NotContains(t, body, " onclick=", "no inline handlers")
	m := pageOptionsRE.FindStringSubmatch(body)
	require.NotNil(t, m)
	return body, []byte(html.UnescapeString(m[1]))
}

// postAssertion posts a credential on the page as its script does.
func (b *mfaBrowser) postAssertion(credential []byte) response {
	return b.e.do(http.MethodPost, mfaPagePath, url.Values{"csrfmiddlewaretoken": {b.csrf}, "credential": {string(credential)}}, b.opts()...)
}

func TestMFAPageOffersSecurityKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPageWebAuthn)
	u, _ := e.register("kai", goodPassword, "kai@example.com")
	key := webauthntest.NewSoftKey(pageRPID, pageSite)
	ctx := recentCtx(t, e, u)
	options, state, err := e.svc.BeginWebAuthnRegistration(ctx, u, false)
	require.NoError(t, err)
	added, err := e.svc.FinishWebAuthnRegistration(ctx, u, state, "Key", key.Create(t, options))
	require.NoError(t, err)

	b := startMFA(t, e, "kai")
	body, opts := keyPage(t, e.do(http.MethodGet, mfaPagePath, nil, b.opts()...), http.StatusOK)
	assert.Contains(t, body, `name="csrfmiddlewaretoken" value="`+b.csrf+`"`)
	assert.Contains(t, body, "Recovery code", "no TOTP: the code field takes a recovery code")
	assert.Contains(t, string(opts), `"allowCredentials":[{`, "the user's keys")

	// Another key, a forged post and a replay are refused; the page offers the key again.
	other := webauthntest.NewSoftKey(pageRPID, pageSite)
	other.Auth.AddCredential(other.Cred)
	body, opts2 := keyPage(t, b.postAssertion(other.Get(t, opts)), http.StatusBadRequest)
	assert.Contains(t, body, "The security key was not accepted.")
	assert.Empty(t, loggedInAs(t, e, b.session))
	forged := e.do(http.MethodPost, mfaPagePath, url.Values{"credential": {string(key.Get(t, opts2))}}, withSessionID(b.session))
	assert.Equal(t, http.StatusForbidden, forged.Code, "CSRF as the code's form")
	assert.Empty(t, loggedInAs(t, e, b.session))

	_, opts = keyPage(t, e.do(http.MethodGet, mfaPagePath, nil, b.opts()...), http.StatusOK)
	assertion := key.Get(t, opts)
	res := b.postAssertion(assertion)
	require.Equal(t, http.StatusSeeOther, res.Code, res.Body.String())
	assert.Equal(t, pageSite+"/platform", res.Header().Get("Location"))
	c := findSessionCookie(t, res.Header())
	require.NotNil(t, c)
	assert.Equal(t, "kai", loggedInAs(t, e, c.Value))

	b = startMFA(t, e, "kai")
	keyPage(t, b.postAssertion(assertion), http.StatusBadRequest)
	assert.Empty(t, loggedInAs(t, e, b.session), "a replayed assertion")

	list, err := e.svc.ListWebAuthnCredentials(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, added.Credential.ID, list[0].ID)
	assert.NotNil(t, list[0].LastUsed, "the key was used")
}

func TestMFAPageWithoutKeyHasNoScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPageWebAuthn)
	e.enrol(t, "lia")
	b := startMFA(t, e, "lia")
	body := assertMFAPage(t, e.do(http.MethodGet, mfaPagePath, nil, b.opts()...), http.StatusOK)
	assert.NotContains(t, body, "webauthn")
	assert.Contains(t, body, "Authenticator code")
	assert.NotContains(t, b.postAssertion([]byte(`{"id":"x"}`)).Body.String(), "<script", "a stray credential is refused without offering a key")
}
