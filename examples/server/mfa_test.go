package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/internal/otptest"
)

func TestMFAFlags(t *testing.T) {
	for _, tc := range []struct {
		args              []string
		enabled, required bool
	}{
		{nil, false, false},
		{[]string{"-mfa"}, true, false},
		{[]string{"-mfa-required"}, true, true},
	} {
		base := startServer(t, append([]string{"-store", "memory"}, tc.args...)...)
		res, body := sendJSON(t, http.DefaultClient, http.MethodGet, base+"/api/auth/providers/", nil, "")
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		assert.Equal(t, tc.enabled, body["mfa_enabled"], tc.args)
		assert.Equal(t, tc.required, body["mfa_required"], tc.args)
	}
}

// TestMFALogin enrols a user in TOTP over HTTP on a server started with -mfa, then logs
// in with a recovery code. The server runs on the real clock, so the test never waits for
// the next 30-second step: the activation code's step is spent, and a recovery code is
// the second factor that does not depend on the time.
func TestMFALogin(t *testing.T) {
	db := t.TempDir() + "/restauth.db"
	base := startServer(t, "-db", db, "-mfa")
	const username, password = "mfa-user", "a-long-passphrase"

	res, body := postJSON(t, base+"/api/auth/registration/", map[string]any{
		"username": username, "email": "mfa-user@example.com", "password1": password, "password2": password})
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	res, body = postJSON(t, base+"/api/auth/login/", map[string]any{"username": username, "password": password})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	token := body["key"].(string)

	res, body = sendJSON(t, http.DefaultClient, http.MethodGet, base+"/api/auth/mfa/totp/", nil, token)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, false, body["active"])
	rawURL, _ := body["otpauth_url"].(string)
	require.NotEmpty(t, rawURL, body)
	app, err := otptest.Scan(rawURL)
	require.NoError(t, err)

	activationCode := app.Code(time.Now())
	res, body = sendJSON(t, http.DefaultClient, http.MethodPost, base+"/api/auth/mfa/totp/", map[string]any{"code": activationCode}, token)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, true, body["active"])
	rawCodes, _ := body["recovery_codes"].([]any)
	require.NotEmpty(t, rawCodes, body)
	recovery := rawCodes[0].(string)

	res, body = sendJSON(t, http.DefaultClient, http.MethodGet, base+"/api/auth/mfa/totp/", nil, token)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, map[string]any{"active": true}, body, "no secret once active")

	login := func(mfaCode string) (*http.Response, map[string]any) {
		t.Helper()
		req := map[string]any{"username": username, "password": password}
		if mfaCode != "" {
			req["mfa_code"] = mfaCode
		}
		return postJSON(t, base+"/api/auth/login/", req)
	}
	incorrect := map[string]any{"mfa_code": []any{"Incorrect code."}}

	res, body = login("")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, map[string]any{"detail": "MFA required for this user"}, body)

	// The activation code's step is spent: replaying it is refused whatever the clock says.
	res, body = login(activationCode)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Equal(t, incorrect, body)

	res, body = login(recovery)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	key, _ := body["key"].(string)
	require.NotEmpty(t, key, body)
	res, body = sendJSON(t, http.DefaultClient, http.MethodGet, base+"/api/user/me/", nil, key)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, username, body["username"])

	// A recovery code works once.
	res, body = login(recovery)
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.Equal(t, incorrect, body)

	res, body = sendJSON(t, http.DefaultClient, http.MethodGet, base+"/api/auth/mfa/recovery-codes/", nil, token)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, float64(len(rawCodes)), body["total"])
	assert.Equal(t, float64(len(rawCodes)-1), body["remaining"])

	// An administrator resets the MFA of a user who lost device and codes: the password
	// alone logs in again.
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-db", db, "-mfa", "mfa-reset", username}, strings.NewReader(""), &out, io.Discard, testEnv))
	assert.Contains(t, out.String(), "MFA reset for "+username)
	res, body = login("")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	err = run(context.Background(), []string{"-db", db, "mfa-reset", "nobody"}, strings.NewReader(""), io.Discard, io.Discard, testEnv)
	assert.ErrorContains(t, err, `no user "nobody"`)
}
