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
	"github.com/restauth/restauth/internal/webauthntest"
)

// The fixture's site is the relying party: its host is the RP id, its origin the one the
// software authenticator signs for.
const (
	webauthnRPID   = "example.test"
	webauthnOrigin = "http://example.test"
)

// withWebAuthn turns MFA and WebAuthn on, passkey login too when passkeys is set.
func withWebAuthn(passkeys bool) func(*restauth.Config) {
	return func(c *restauth.Config) {
		c.MFA.Enabled = true
		c.WebAuthn.Enabled = true
		c.WebAuthn.PasskeyLogin = passkeys
	}
}

// softKey is one credential on a software authenticator (internal/webauthntest).
type softKey = webauthntest.SoftKey

func newSoftKey() *softKey { return webauthntest.NewSoftKey(webauthnRPID, webauthnOrigin) }

// options returns data[key] of an options answer.
func options(t *testing.T, r result, key string) json.RawMessage {
	t.Helper()
	require.Equal(t, 200, r.code, "%s", r.Data)
	var d map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.Data, &d))
	require.Contains(t, string(d[key]), `"publicKey"`)
	return d[key]
}

// webauthnEntry is data of an authenticator answer.
type webauthnEntry struct {
	Type           string   `json:"type"`
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	CreatedAt      float64  `json:"created_at"`
	LastUsedAt     *float64 `json:"last_used_at"`
	IsPasswordless bool     `json:"is_passwordless"`
}

func entry(t *testing.T, r result) webauthnEntry {
	t.Helper()
	require.Equal(t, 200, r.code, "%s %v", r.Data, r.Errors)
	var e webauthnEntry
	require.NoError(t, json.Unmarshal(r.Data, &e))
	return e
}

// addKey adds a key (a passkey when passwordless) through account/authenticators/webauthn.
func addKey(t *testing.T, c *client, name string, passwordless bool) (*softKey, webauthnEntry, result) {
	t.Helper()
	path := "account/authenticators/webauthn"
	if passwordless {
		path += "?passwordless"
	}
	k := newSoftKey()
	opts := options(t, c.do(http.MethodGet, path, nil), "creation_options")
	cred := k.Create(t, opts)
	r := c.do(http.MethodPost, "account/authenticators/webauthn", map[string]any{"name": name, "credential": cred})
	e := entry(t, r)
	again := c.do(http.MethodPost, "account/authenticators/webauthn", map[string]any{"name": name, "credential": cred})
	assert.Equal(t, 400, again.code, "the state is used once")
	return k, e, r
}

// status is the HTTP status of a request outside the specification's cases (an anonymous
// call of an account route, which allauth answers 401 with the login flows).
func (c *client) status(method, path string) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	require.NoError(c.t, err)
	if c.token != "" {
		req.Header.Set("X-Session-Token", c.token)
	}
	res, err := c.http.Do(req)
	require.NoError(c.t, err)
	require.NoError(c.t, res.Body.Close())
	return res.StatusCode
}

// registerAdaNoEmail registers ada without an address: the WebAuthn flows need none.
func registerAdaNoEmail(t *testing.T, f *fixture) {
	t.Helper()
	_, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
	require.NoError(t, err)
}

// logout ends the session; the app client forgets its token, which names none now.
func logout(t *testing.T, c *client) {
	t.Helper()
	require.Equal(t, 401, c.do(http.MethodDelete, "auth/session", nil).code)
	c.token = ""
}

func passwordLogin(t *testing.T, c *client) result {
	t.Helper()
	return c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"})
}

func TestWebAuthnAddSecondFactorReauthRenameRemove(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withWebAuthn(false), tc.opts)
			registerAdaNoEmail(t, f)
			c := tc.client(f, t)
			assert.NotContains(t, c.do(http.MethodGet, "auth/session", nil).flows(t), "mfa_login_webauthn", "no passkey login")
			assert.Equal(t, 401, c.status(http.MethodGet, "account/authenticators/webauthn"), "anonymous")
			require.Equal(t, 200, passwordLogin(t, c).code)

			key, added, r := addKey(t, c, "Master key", false)
			assert.Equal(t, "webauthn", added.Type)
			assert.Equal(t, "Master key", added.Name)
			assert.False(t, added.IsPasswordless)
			assert.Nil(t, added.LastUsedAt)
			assert.Equal(t, true, r.Meta["recovery_codes_generated"], "the first authenticator makes recovery codes")

			var list []map[string]any
			r = c.do(http.MethodGet, "account/authenticators", nil)
			require.Equal(t, 200, r.code)
			require.NoError(t, json.Unmarshal(r.Data, &list))
			require.Len(t, list, 2, "%s", r.Data)
			assert.Equal(t, "webauthn", list[0]["type"])
			assert.Equal(t, "Master key", list[0]["name"])
			assert.Equal(t, "recovery_codes", list[1]["type"], "the codes came with the key")
			assert.EqualValues(t, 10, list[1]["unused_code_count"])

			var cfg struct {
				MFA map[string]any `json:"mfa"`
			}
			require.NoError(t, json.Unmarshal(c.do(http.MethodGet, "config", nil).Data, &cfg))
			assert.Equal(t, []any{"recovery_codes", "totp", "webauthn"}, cfg.MFA["supported_types"])
			assert.Equal(t, false, cfg.MFA["passkey_login_enabled"])

			// The key is the second factor of a password login.
			logout(t, c)
			r = passwordLogin(t, c)
			require.Equal(t, 401, r.code)
			mfa := r.flows(t)["mfa_authenticate"]
			require.NotNil(t, mfa)
			assert.Equal(t, []any{"recovery_codes", "webauthn"}, mfa["types"])
			r = c.do(http.MethodPost, "auth/webauthn/authenticate", map[string]any{})
			require.Equal(t, 400, r.code)
			assert.Equal(t, "credential", r.Errors[0].Param)
			opts := options(t, c.do(http.MethodGet, "auth/webauthn/authenticate", nil), "request_options")
			other := newSoftKey()
			other.Auth.AddCredential(other.Cred)
			r = c.do(http.MethodPost, "auth/webauthn/authenticate", map[string]any{"credential": other.Get(t, opts)})
			require.Equal(t, 400, r.code, "a key that is not hers")
			assert.Equal(t, "incorrect_code", r.Errors[0].Code)
			assert.Equal(t, "credential", r.Errors[0].Param)
			opts = options(t, c.do(http.MethodGet, "auth/webauthn/authenticate", nil), "request_options")
			r = c.do(http.MethodPost, "auth/webauthn/authenticate", map[string]any{"credential": key.Get(t, opts)})
			require.Equal(t, 200, r.code, "%v", r.Errors)
			assert.Contains(t, string(r.Data), `"method":"mfa"`)
			assert.Contains(t, string(r.Data), `"type":"webauthn"`)

			// Changes need a recent authentication, which the key renews.
			f.advance(10 * time.Minute)
			r = c.do(http.MethodPut, "account/authenticators/webauthn", map[string]any{"id": added.ID, "name": "Blue key"})
			require.Equal(t, 401, r.code)
			assert.Equal(t, true, r.Meta["is_authenticated"])
			assert.Equal(t, []any{"recovery_codes", "webauthn"}, r.flows(t)["mfa_reauthenticate"]["types"])
			assert.Equal(t, 401, c.do(http.MethodGet, "account/authenticators/webauthn", nil).code)
			assert.Equal(t, 401, c.do(http.MethodDelete, "account/authenticators/webauthn", map[string]any{"authenticators": []int64{added.ID}}).code)
			opts = options(t, c.do(http.MethodGet, "auth/webauthn/reauthenticate", nil), "request_options")
			r = c.do(http.MethodPost, "auth/webauthn/reauthenticate", map[string]any{"credential": key.Get(t, opts)})
			require.Equal(t, 200, r.code, "%v", r.Errors)
			assert.Contains(t, string(r.Data), `"reauthenticated":true`)
			r = c.do(http.MethodPost, "auth/webauthn/reauthenticate", map[string]any{"credential": key.Get(t, opts)})
			assert.Equal(t, 400, r.code, "a replayed assertion")

			renamed := entry(t, c.do(http.MethodPut, "account/authenticators/webauthn", map[string]any{"id": added.ID, "name": "Blue key"}))
			assert.Equal(t, "Blue key", renamed.Name)
			assert.NotNil(t, renamed.LastUsedAt, "used since")
			r = c.do(http.MethodPut, "account/authenticators/webauthn", map[string]any{"id": added.ID + 100, "name": "x"})
			assert.Equal(t, 400, r.code, "not hers")
			assert.Equal(t, 400, c.do(http.MethodPut, "account/authenticators/webauthn", map[string]any{"id": added.ID, "name": ""}).code)

			assert.Equal(t, 400, c.do(http.MethodDelete, "account/authenticators/webauthn", map[string]any{"authenticators": []int64{added.ID + 100}}).code)
			assert.Equal(t, 200, c.do(http.MethodDelete, "account/authenticators/webauthn", map[string]any{"authenticators": []int64{added.ID}}).code)
			keys, err := f.svc.ListWebAuthnCredentials(context.Background(), mustUserID(t, f))
			require.NoError(t, err)
			assert.Empty(t, keys)
		})
	}
}

func mustUserID(t *testing.T, f *fixture) int64 {
	t.Helper()
	res, err := f.svc.Login(context.Background(), restauth.LoginRequest{Username: "ada", Password: "analytical-engine-1843", Defer: true, WithoutToken: true})
	require.NoError(t, err)
	if res.Pending != nil {
		return res.Pending.UserID
	}
	return res.User.ID
}

func TestPasskeyLogin(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, withWebAuthn(true), tc.opts)
			registerAdaNoEmail(t, f)
			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)
			require.Equal(t, 200, passwordLogin(t, c).code)
			key, added, _ := addKey(t, c, "Phone", true)
			assert.True(t, added.IsPasswordless)
			var cfg struct {
				MFA map[string]any `json:"mfa"`
			}
			require.NoError(t, json.Unmarshal(c.do(http.MethodGet, "config", nil).Data, &cfg))
			assert.Equal(t, true, cfg.MFA["passkey_login_enabled"])
			opts := options(t, c.do(http.MethodGet, "auth/webauthn/login", nil), "request_options")
			assert.Equal(t, 409, c.do(http.MethodPost, "auth/webauthn/login", map[string]any{"credential": key.Get(t, opts)}).code, "logged in already")
			logout(t, c)

			// A fresh client: the passkey alone logs in, no username.
			fresh := tc.client(f, t)
			fresh.do(http.MethodGet, "auth/session", nil)
			opts = options(t, fresh.do(http.MethodGet, "auth/webauthn/login", nil), "request_options")
			assert.NotContains(t, string(opts), "allowCredentials\":[{", "the browser offers the site's passkeys")
			cred := key.Get(t, opts)
			r := fresh.do(http.MethodPost, "auth/webauthn/login", map[string]any{"credential": cred})
			require.Equal(t, 200, r.code, "%v", r.Errors)
			assert.Equal(t, true, r.Meta["is_authenticated"])
			assert.Contains(t, string(r.Data), `"type":"webauthn"`)
			assert.Equal(t, 200, fresh.do(http.MethodGet, "auth/session", nil).code)
			logout(t, fresh)
			r = fresh.do(http.MethodPost, "auth/webauthn/login", map[string]any{"credential": cred})
			require.Equal(t, 400, r.code, "a replayed assertion")
			assert.Equal(t, "incorrect_code", r.Errors[0].Code)
		})
	}
}

func TestWebAuthnRoutesFollowConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*restauth.Config)
		served map[string]bool
	}{
		{"off", nil, map[string]bool{}},
		{"keys", withWebAuthn(false), map[string]bool{"auth/webauthn/authenticate": true, "auth/webauthn/reauthenticate": true, "account/authenticators/webauthn": true}},
		{"passkeys", withWebAuthn(true), map[string]bool{"auth/webauthn/authenticate": true, "auth/webauthn/reauthenticate": true, "account/authenticators/webauthn": true, "auth/webauthn/login": true}},
		{"signup", withPasskeySignup, map[string]bool{"auth/webauthn/authenticate": true, "auth/webauthn/reauthenticate": true, "account/authenticators/webauthn": true, "auth/webauthn/login": true, "auth/webauthn/signup": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.mutate, headless.Options{})
			c := f.appClient(t)
			for _, p := range []string{"auth/webauthn/authenticate", "auth/webauthn/reauthenticate", "account/authenticators/webauthn", "auth/webauthn/login", "auth/webauthn/signup"} {
				got := c.status(http.MethodGet, p)
				if tc.served[p] {
					assert.NotEqual(t, 404, got, p)
				} else {
					assert.Equal(t, 404, got, p)
				}
			}
		})
	}
}
