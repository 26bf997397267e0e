package headless_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
)

// withPasskeySignup turns passkey login and signup on.
func withPasskeySignup(c *restauth.Config) {
	withWebAuthn(true)(c)
	c.WebAuthn.PasskeySignup = true
}

// pendingFlows is the ids of the pending flows of an answer.
func pendingFlows(t *testing.T, r result) []string {
	t.Helper()
	var ids []string
	for id, fl := range r.flows(t) {
		if fl["is_pending"] == true {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestPasskeySignup(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withPasskeySignup, tc.opts)
			c := tc.client(f, t)
			assert.Contains(t, c.do(http.MethodGet, "auth/session", nil).flows(t), "mfa_login_webauthn", "passkeys log in")
			assert.Equal(t, 409, c.do(http.MethodGet, "auth/webauthn/signup", nil).code, "no signup pending")
			assert.Equal(t, 409, c.do(http.MethodPut, "auth/webauthn/signup", map[string]any{"name": "Key", "credential": map[string]any{}}).code)

			r := c.do(http.MethodPost, "auth/webauthn/signup", map[string]string{"email": "nova"})
			require.Equal(t, 400, r.code)
			assert.Equal(t, "email", r.Errors[0].Param)

			// The address first, by code.
			r = c.do(http.MethodPost, "auth/webauthn/signup", map[string]string{"email": "nova@example.test", "username": "nova"})
			require.Equal(t, 401, r.code, "%s", r.Data)
			assert.Equal(t, []string{"verify_email"}, pendingFlows(t, r))
			first := f.mailedCode(t)
			assert.Equal(t, 429, c.do(http.MethodPost, "auth/email/verify/resend", nil).code, "one mail per 3 minutes")
			f.advance(3*time.Minute + time.Second)
			require.Equal(t, 200, c.do(http.MethodPost, "auth/email/verify/resend", nil).code)
			code := f.mailedCode(t)
			assert.NotEqual(t, first, code, "a new code")
			assert.Equal(t, 409, c.do(http.MethodGet, "auth/webauthn/signup", nil).code, "not verified yet")
			r = c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": "CDFGHJ"})
			require.Equal(t, 400, r.code)
			assert.Equal(t, "incorrect_code", r.Errors[0].Code)
			assert.Equal(t, "key", r.Errors[0].Param)
			r = c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": code})
			require.Equal(t, 401, r.code, "%s", r.Data)
			assert.Equal(t, []string{"mfa_signup_webauthn"}, pendingFlows(t, r))

			// Then the passkey.
			opts := options(t, c.do(http.MethodGet, "auth/webauthn/signup", nil), "creation_options")
			assert.Contains(t, string(opts), `"residentKey":"required"`)
			key := newSoftKey()
			cred := key.Create(t, opts)
			r = c.do(http.MethodPut, "auth/webauthn/signup", map[string]any{"name": "", "credential": cred})
			require.Equal(t, 400, r.code, "a name is required")
			opts = options(t, c.do(http.MethodGet, "auth/webauthn/signup", nil), "creation_options")
			cred = key.Create(t, opts)
			r = c.do(http.MethodPut, "auth/webauthn/signup", map[string]any{"name": "Some key", "credential": cred})
			require.Equal(t, 200, r.code, "%s %v", r.Data, r.Errors)
			assert.Equal(t, true, r.Meta["is_authenticated"])
			var d struct {
				User    map[string]any   `json:"user"`
				Methods []map[string]any `json:"methods"`
			}
			require.NoError(t, json.Unmarshal(r.Data, &d))
			assert.Equal(t, "nova", d.User["username"])
			assert.Equal(t, false, d.User["has_usable_password"])
			require.Len(t, d.Methods, 1)
			assert.Equal(t, "webauthn", d.Methods[0]["type"])
			assert.Equal(t, 409, c.do(http.MethodPut, "auth/webauthn/signup", map[string]any{"name": "Again", "credential": cred}).code)

			id := int64(d.User["id"].(float64))
			keys, err := f.svc.ListWebAuthnCredentials(context.Background(), id)
			require.NoError(t, err)
			require.Len(t, keys, 1)
			assert.Equal(t, "Some key", keys[0].Name)
			assert.True(t, keys[0].Passkey)
			addrs, err := f.svc.EmailAddresses(context.Background(), id)
			require.NoError(t, err)
			require.Len(t, addrs, 1)
			assert.True(t, addrs[0].Verified, "verified by the code")

			// The passkey logs in.
			logout(t, c)
			fresh := tc.client(f, t)
			fresh.do(http.MethodGet, "auth/session", nil)
			opts = options(t, fresh.do(http.MethodGet, "auth/webauthn/login", nil), "request_options")
			r = fresh.do(http.MethodPost, "auth/webauthn/login", map[string]any{"credential": key.Get(t, opts)})
			require.Equal(t, 200, r.code, "%v", r.Errors)
		})
	}
}

func TestPasskeySignupVerificationEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withPasskeySignup, headless.Options{})
	c := f.appClient(t)
	require.Equal(t, 401, c.do(http.MethodPost, "auth/webauthn/signup", map[string]string{"email": "nova@example.test", "username": "nova"}).code)
	code := f.mailedCode(t)
	require.Equal(t, 401, c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": code}).code)
	f.advance(16 * time.Minute) // past the verification's lifetime
	r := c.do(http.MethodGet, "auth/session", nil)
	assert.Empty(t, pendingFlows(t, r))
	assert.Equal(t, 409, c.do(http.MethodGet, "auth/webauthn/signup", nil).code)
}

func TestPasskeySignupConcealsTakenAddress(t *testing.T) {
	t.Parallel()
	statuses := map[bool][]int{}
	for _, taken := range []bool{false, true} {
		f := newFixture(t, func(c *restauth.Config) { withPasskeySignup(c); codeConfig(c) }, headless.Options{})
		if taken {
			reg, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada", Email: "ada@example.test", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
			require.NoError(t, err)
			require.NotNil(t, reg.VerificationCode)
			_, err = f.svc.VerifyEmailCode(context.Background(), *reg.VerificationCode, f.mailedCode(t))
			require.NoError(t, err)
		}
		c := f.appClient(t)
		before := f.mailCount()
		var got []int
		r := c.do(http.MethodPost, "auth/webauthn/signup", map[string]string{"username": "eve", "email": "ada@example.test"})
		got = append(got, r.code)
		assert.Equal(t, []string{"verify_email"}, pendingFlows(t, r))
		assert.Equal(t, before+1, f.mailCount(), "one mail either way")
		got = append(got, c.do(http.MethodPost, "auth/email/verify/resend", nil).code)
		got = append(got, c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": "CDFGHJ"}).code)
		statuses[taken] = got
	}
	assert.Equal(t, []int{401, 200, 400}, statuses[false])
	assert.Equal(t, statuses[false], statuses[true])
}

// TestPasskeySignupVerifyInfo: GET auth/email/verify while a passkey signup waits for its
// code answers as allauth's verify_email stage of that signup does (it answered 409, or
// 400 with verification by link): 200 with the address and the user signing up,
// is_authenticating true; a wrong or missing code is 400, and the code stays for the POST.
// Once the code's attempts are used up the signup ends (409), with verification by link
// or by code for other addresses alike.
func TestPasskeySignupVerifyInfo(t *testing.T) {
	t.Parallel()
	for _, byCode := range []bool{false, true} {
		for _, tc := range clients {
			t.Run(tc.name+map[bool]string{true: "/by-code", false: "/by-link"}[byCode], func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, func(c *restauth.Config) {
					withPasskeySignup(c)
					if byCode {
						codeConfig(c)
					}
				}, tc.opts)
				c := tc.client(f, t)
				c.do(http.MethodGet, "auth/session", nil)
				require.Equal(t, 401, c.do(http.MethodPost, "auth/webauthn/signup", map[string]string{"email": "nova@example.test", "username": "nova"}).code)
				code := f.mailedCode(t)

				r := c.do(http.MethodGet, "auth/email/verify", nil)
				require.Equal(t, 400, r.code, "no key")
				assert.Equal(t, "incorrect_code", r.Errors[0].Code)
				r = c.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", code)
				require.Equal(t, 200, r.code, "%s %v", r.Data, r.Errors)
				var d struct {
					Email string         `json:"email"`
					User  map[string]any `json:"user"`
				}
				require.NoError(t, json.Unmarshal(r.Data, &d))
				assert.Equal(t, "nova@example.test", d.Email)
				assert.Equal(t, map[string]any{"display": "nova", "username": "nova", "email": "nova@example.test", "has_usable_password": false}, d.User)
				assert.Equal(t, true, r.Meta["is_authenticating"])

				r = c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": code})
				require.Equal(t, 401, r.code, "the look left the code: %s", r.Data)
				assert.Equal(t, []string{"mfa_signup_webauthn"}, pendingFlows(t, r))
			})
		}
	}

	f := newFixture(t, func(c *restauth.Config) { withPasskeySignup(c); codeConfig(c) }, headless.Options{})
	c := f.appClient(t)
	require.Equal(t, 401, c.do(http.MethodPost, "auth/webauthn/signup", map[string]string{"email": "nova@example.test", "username": "nova"}).code)
	code := f.mailedCode(t)
	for range 3 {
		require.Equal(t, 400, c.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", "CDFGHJ").code)
	}
	assert.Equal(t, 409, c.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", code).code, "the attempts are used up")
	assert.Empty(t, pendingFlows(t, c.do(http.MethodGet, "auth/session", nil)), "the signup ended")
	assert.Equal(t, 409, c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": code}).code)
}
