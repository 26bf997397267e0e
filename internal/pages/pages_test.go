package pages

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPagesRenderEscapedAndUncached(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	require.NoError(t, WriteConfirmEmail(rec, http.StatusOK, ConfirmEmail{SiteName: "Shop", Email: "<b>a@example.com</b>", CSRFToken: "tok"}))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "Confirm E-mail Address")
	assert.Contains(t, rec.Body.String(), "&lt;b&gt;a@example.com&lt;/b&gt;")
	assert.NotContains(t, rec.Body.String(), "<b>a@example.com")
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))

	rec = httptest.NewRecorder()
	require.NoError(t, WriteMFA(rec, http.StatusBadRequest, MFA{Message: "expired", LoginURL: "https://example.com/login"}))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "Two-Factor Authentication")
	assert.Contains(t, rec.Body.String(), "expired")
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
}

func TestSiteName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Shop", SiteName("Shop", "https://example.com"))
	assert.Equal(t, "example.com:8443", SiteName("", "https://example.com:8443"))
}

func TestMFAPageScriptOnlyWithKeys(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	require.NoError(t, WriteMFA(rec, http.StatusOK, MFA{Form: true, TOTP: true, CSRFToken: "tok"}))
	assert.NotContains(t, rec.Body.String(), "<script")
	assert.Equal(t, cspNoScript, rec.Header().Get("Content-Security-Policy"))

	rec = httptest.NewRecorder()
	options := `{"publicKey":{"challenge":"\"><script>alert(1)</script>"}}`
	require.NoError(t, WriteMFA(rec, http.StatusOK, MFA{Form: true, CSRFToken: "tok", WebAuthnOptions: options}))
	body := rec.Body.String()
	assert.Equal(t, cspWebAuthn, rec.Header().Get("Content-Security-Policy"))
	assert.Contains(t, body, "<script>"+webauthnScript+"</script>", "the script verbatim, as hashed")
	assert.NotContains(t, body, "<script>alert(1)", "the options are escaped in their attribute")
	assert.Contains(t, body, "Recovery code")
}
