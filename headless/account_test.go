package headless_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

const adaPassword = "analytical-engine-1843"

// register creates ada (with an address when email is set) through the Service.
func (f *fixture) register(t *testing.T, email string) *restauth.User {
	t.Helper()
	reg, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada", Email: email, Password1: adaPassword, Password2: adaPassword, WithoutToken: true})
	require.NoError(t, err)
	return reg.User
}

// login logs the client in as ada by password.
func (c *client) login(t *testing.T) {
	t.Helper()
	c.do(http.MethodGet, "auth/session", nil)
	r := c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": adaPassword})
	require.Equal(t, 200, r.code, "%s", r.Data)
}

// sessionFor logs the client's session in as u through the Service's session facilities,
// for a user who cannot log in by password.
func (c *client) sessionFor(t *testing.T, u *restauth.User) {
	t.Helper()
	sm := c.f.svc.Sessions()
	ctx, err := sm.Load(context.Background(), "")
	require.NoError(t, err)
	rec := c.f.svc.NewAuthRecord("password") // restauth's AuthRecord has no provider fields yet
	rec.Username = u.Username
	require.NoError(t, c.f.svc.LoginSession(ctx, u, rec))
	token, _, err := sm.Commit(ctx)
	require.NoError(t, err)
	if c.app {
		c.token = token
		return
	}
	u2, err := url.Parse(c.base)
	require.NoError(t, err)
	c.http.Jar.SetCookies(u2, []*http.Cookie{{Name: sm.Cookie.Name, Value: token, Path: "/"}})
	c.do(http.MethodGet, "auth/session", nil) // the csrftoken cookie
}

// emails decodes an EmailAddresses answer: address → "primary,verified" flags.
func (r result) emails(t *testing.T) map[string][2]bool {
	var list []struct {
		Email             string
		Primary, Verified bool
	}
	require.NoError(t, json.Unmarshal(r.Data, &list))
	out := map[string][2]bool{}
	for _, a := range list {
		out[a.Email] = [2]bool{a.Primary, a.Verified}
	}
	return out
}

func (r result) firstError(t *testing.T) (code, param string) {
	t.Helper()
	require.NotEmpty(t, r.Errors)
	return r.Errors[0].Code, r.Errors[0].Param
}

func TestAccountEmail(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil, tc.opts)
			f.register(t, "ada@example.test")
			c := tc.client(f, t)
			assert.Equal(t, 401, c.do(http.MethodGet, "account/email", nil).code, "anonymous")
			c.login(t)

			r := c.do(http.MethodGet, "account/email", nil)
			require.Equal(t, 200, r.code)
			assert.Equal(t, map[string][2]bool{"ada@example.test": {true, false}}, r.emails(t))

			r = c.do(http.MethodPost, "account/email", map[string]string{"email": "not-an-address"})
			require.Equal(t, 400, r.code)
			code, param := r.firstError(t)
			assert.Equal(t, "invalid", code)
			assert.Equal(t, "email", param)
			r = c.do(http.MethodPost, "account/email", map[string]string{"email": "ada@example.test"})
			require.Equal(t, 400, r.code)
			code, param = r.firstError(t)
			assert.Equal(t, "duplicate_email", code)
			assert.Equal(t, "email", param)

			r = c.do(http.MethodPost, "account/email", map[string]string{"email": "countess@example.test"})
			require.Equal(t, 200, r.code)
			assert.Equal(t, map[string][2]bool{"ada@example.test": {true, false}, "countess@example.test": {false, false}}, r.emails(t))
			key, ok := strings.CutPrefix(f.lastLink(t), "http://example.test/account/verify-email/")
			require.True(t, ok)
			assert.Equal(t, 200, c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": key}).code)

			r = c.do(http.MethodPatch, "account/email", map[string]any{"email": "nobody@example.test", "primary": true})
			require.Equal(t, 400, r.code)
			code, _ = r.firstError(t)
			assert.Equal(t, "unknown_email", code)
			r = c.do(http.MethodPatch, "account/email", map[string]any{"email": "Countess@example.test", "primary": true})
			require.Equal(t, 200, r.code)
			assert.Equal(t, map[string][2]bool{"ada@example.test": {false, false}, "countess@example.test": {true, true}}, r.emails(t))
			r = c.do(http.MethodPatch, "account/email", map[string]any{"email": "ada@example.test", "primary": true})
			require.Equal(t, 400, r.code, "an unverified address cannot replace a verified primary")
			code, _ = r.firstError(t)
			assert.Equal(t, "unverified_primary_email", code)

			f.mu.Lock()
			sent := len(f.mails)
			f.mu.Unlock()
			assert.Equal(t, 200, c.do(http.MethodPut, "account/email", map[string]string{"email": "ada@example.test"}).code)
			f.mu.Lock()
			assert.Len(t, f.mails, sent+1, "a new verification mail")
			f.mu.Unlock()
			assert.Equal(t, 403, c.do(http.MethodPut, "account/email", map[string]string{"email": "ada@example.test"}).code, "too many mails lately")
			assert.Equal(t, 400, c.do(http.MethodPut, "account/email", map[string]string{"email": "nobody@example.test"}).code)

			r = c.do(http.MethodDelete, "account/email", map[string]string{"email": "countess@example.test"})
			require.Equal(t, 400, r.code)
			code, param = r.firstError(t)
			assert.Equal(t, "cannot_remove_primary_email", code)
			assert.Equal(t, "email", param)
			r = c.do(http.MethodDelete, "account/email", map[string]string{"email": "ada@example.test"})
			require.Equal(t, 200, r.code)
			assert.Equal(t, map[string][2]bool{"countess@example.test": {true, true}}, r.emails(t))
		})
	}
}

func TestAccountPasswordChange(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		for _, keep := range []bool{false, true} {
			name := tc.name + "/logout"
			if keep {
				name = tc.name + "/keep"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, func(c *restauth.Config) { c.Dialects.HeadlessKeepSessionOnPasswordChange = keep }, tc.opts)
				f.register(t, "")
				c := tc.client(f, t)
				c.do(http.MethodGet, "auth/session", nil)
				assert.Equal(t, 401, c.do(http.MethodPost, "account/password/change", map[string]string{"current_password": adaPassword, "new_password": "difference-engine-1822"}).code)
				c.login(t)
				for _, bad := range []struct{ current, new, code, param string }{
					{"", "difference-engine-1822", "required", "current_password"},
					{"wrong-password", "difference-engine-1822", "enter_current_password", "current_password"},
					{adaPassword, "short", "password_too_short", "new_password"},
					{adaPassword, "12345678901", "password_entirely_numeric", "new_password"},
					{adaPassword, "password", "password_too_common", "new_password"},
				} {
					r := c.do(http.MethodPost, "account/password/change", map[string]string{"current_password": bad.current, "new_password": bad.new})
					require.Equal(t, 400, r.code, bad.new)
					codes := map[string]string{}
					for _, e := range r.Errors {
						codes[e.Code] = e.Param
					}
					assert.Equal(t, bad.param, codes[bad.code], "%s: %+v", bad.new, r.Errors)
				}
				r := c.do(http.MethodPost, "account/password/change", map[string]string{"current_password": adaPassword, "new_password": "difference-engine-1822"})
				if keep {
					require.Equal(t, 200, r.code)
					assert.Equal(t, 200, c.do(http.MethodGet, "auth/session", nil).code, "the session is kept")
					return
				}
				require.Equal(t, 401, r.code, "logged out: allauth's clients count it as success")
				assert.Equal(t, false, r.Meta["is_authenticated"])
				s := c.do(http.MethodGet, "auth/session", nil)
				assert.Contains(t, []int{401, 410}, s.code)
				c.token = ""
				r = c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "difference-engine-1822"})
				assert.Equal(t, 200, r.code, "the new password logs in")
			})
		}
	}
}

func TestAccountPasswordSet(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil, tc.opts)
			u := f.register(t, "")
			unusable := "!no-password"
			u, err := f.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{PasswordHash: &unusable})
			require.NoError(t, err)
			c := tc.client(f, t)
			c.sessionFor(t, u)
			r := c.do(http.MethodPost, "account/password/change", map[string]string{"new_password": "difference-engine-1822"})
			require.Equal(t, 401, r.code, "set, then logged out")
			c.token = ""
			assert.Equal(t, 200, c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "difference-engine-1822"}).code)
		})
	}
}

func TestAccountProviders(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil, tc.opts)
			ctx := context.Background()
			u := f.register(t, "")
			unusable := "!no-password"
			u, err := f.store.UpdateUser(ctx, u.ID, restauth.UserUpdate{PasswordHash: &unusable})
			require.NoError(t, err)
			for _, a := range []restauth.SocialAccount{
				{UserID: u.ID, Provider: "github", UID: "1843", ExtraData: []byte(`{"login":"ada-gh"}`)},
				{UserID: u.ID, Provider: "gitlab", UID: "1815"},
			} {
				a.DateJoined, a.LastLogin = time.Now(), time.Now()
				require.NoError(t, f.store.CreateSocialAccount(ctx, &a))
			}
			c := tc.client(f, t)
			assert.Equal(t, 401, c.do(http.MethodGet, "account/providers", nil).code)
			c.sessionFor(t, u)
			r := c.do(http.MethodGet, "account/providers", nil)
			require.Equal(t, 200, r.code)
			assert.Contains(t, string(r.Data), `"display":"ada-gh"`)
			assert.Contains(t, string(r.Data), `"uid":"1815"`)

			r = c.do(http.MethodDelete, "account/providers", map[string]string{"provider": "github", "account": "nope"})
			require.Equal(t, 400, r.code)
			code, param := r.firstError(t)
			assert.Equal(t, "account_not_found", code)
			assert.Equal(t, "account", param)
			r = c.do(http.MethodDelete, "account/providers", map[string]string{"provider": "github", "account": "1843"})
			require.Equal(t, 200, r.code)
			assert.NotContains(t, string(r.Data), "1843")
			r = c.do(http.MethodDelete, "account/providers", map[string]string{"provider": "gitlab", "account": "1815"})
			require.Equal(t, 400, r.code, "the last login method stays")
			code, param = r.firstError(t)
			assert.Equal(t, "no_password", code)
			assert.Equal(t, "account", param)
			accounts, err := f.svc.SocialAccounts(ctx, u.ID)
			require.NoError(t, err)
			assert.Len(t, accounts, 1)
		})
	}
}
