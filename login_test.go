package restauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

const goodPassword = "correct-horse-battery"

func TestLoginErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("alice", goodPassword, "alice@example.com")
	inactive := false
	_, err := e.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{IsActive: &inactive})
	require.NoError(t, err)
	e.register("bob", goodPassword, "")

	tests := []struct {
		name   string
		body   any
		opts   []reqOpt
		status int
		want   map[string]any
	}{
		{"no password", map[string]any{"username": "bob"}, nil, 400, map[string]any{"password": []any{"This field is required."}}},
		{"blank password", map[string]any{"username": "bob", "password": " "}, nil, 400, map[string]any{"password": []any{"This field may not be blank."}}},
		{"null password", map[string]any{"username": "bob", "password": nil}, nil, 400, map[string]any{"password": []any{"This field may not be null."}}},
		{"no username", map[string]any{"password": "x"}, nil, 400, map[string]any{"non_field_errors": []any{`Must include "username" and "password".`}}},
		{"email only", map[string]any{"email": "bob@example.com", "password": "x"}, nil, 400, map[string]any{"non_field_errors": []any{`Must include "username" and "password".`}}},
		{"invalid email", map[string]any{"username": "bob", "email": "nope", "password": "x"}, nil, 400, map[string]any{"email": []any{"Enter a valid email address."}}},
		{"wrong password", map[string]any{"username": "bob", "password": "wrong"}, nil, 400, map[string]any{"non_field_errors": []any{"Unable to log in with provided credentials."}}},
		{"unknown user", map[string]any{"username": "nobody", "password": "wrong"}, nil, 400, map[string]any{"non_field_errors": []any{"Unable to log in with provided credentials."}}},
		{"inactive user", map[string]any{"username": "alice", "password": goodPassword}, nil, 400, map[string]any{"non_field_errors": []any{"Unable to log in with provided credentials."}}},
		{"bad basic header", map[string]any{"username": "bob", "password": goodPassword}, []reqOpt{withHeader("Authorization", "Basic !!!")}, 401, map[string]any{"detail": "Invalid basic header. Credentials not correctly base64 encoded."}},
		{"wrong basic password", map[string]any{"username": "bob", "password": goodPassword}, []reqOpt{withBasic("bob", "nope")}, 401, map[string]any{"detail": "Invalid username/password."}},
		{"malformed json", `{"username": `, []reqOpt{withHeader("Content-Type", "application/json")}, 400, nil},
		{"json array", `[1]`, []reqOpt{withHeader("Content-Type", "application/json")}, 400, map[string]any{"non_field_errors": []any{"Invalid data. Expected a dictionary, but got list."}}},
		{"unsupported media type", `username=bob`, []reqOpt{withHeader("Content-Type", "text/plain")}, 415, map[string]any{"detail": `Unsupported media type "text/plain" in request.`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/login/", tc.body, tc.opts...)
			require.Equal(t, tc.status, res.Code, res.Body.String())
			if tc.want != nil {
				assert.Equal(t, tc.want, res.JSON(t))
			}
			assert.Empty(t, res.Header().Values("Set-Cookie"), "a failed login must not open a session")
		})
	}
	t.Run("malformed json message", func(t *testing.T) {
		res := e.do(http.MethodPost, "/api/auth/login/", `{"username": `, withHeader("Content-Type", "application/json"))
		assert.True(t, strings.HasPrefix(res.JSON(t)["detail"].(string), "JSON parse error - "))
	})
}

func TestLoginSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("Carol", goodPassword, "carol@example.com")

	tests := []struct {
		name string
		body any
		opts []reqOpt
	}{
		{"json", map[string]any{"username": "Carol", "password": goodPassword}, nil},
		{"username is case-insensitive", map[string]any{"username": "CAROL", "password": goodPassword}, nil},
		{"form encoded", url.Values{"username": {"carol"}, "password": {goodPassword}}, nil},
		{"stale token header is ignored", map[string]any{"username": "carol", "password": goodPassword}, []reqOpt{withToken("inv-stale")}},
	}
	keys := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/login/", tc.body, tc.opts...)
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
			assert.Equal(t, "application/json", res.Header().Get("Content-Type"))
			body := res.JSON(t)
			require.Len(t, body, 1, "only the key is returned")
			key := body["key"].(string)
			assert.Regexp(t, `^inv-[0-9a-f]{40}-20241130$`, key)
			assert.False(t, keys[key], "every login gets a fresh token")
			keys[key] = true
			cookies := strings.Join(res.Header().Values("Set-Cookie"), "\n")
			assert.Contains(t, cookies, "sessionid=")
			assert.Contains(t, cookies, "csrftoken=")

			me := e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key))
			require.Equal(t, http.StatusOK, me.Code)
			assert.Equal(t, "Carol", me.JSON(t)["username"])
		})
	}
}

func TestLoginMethodsAndMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.MFA.Enabled, c.MFA.Required = true, true })
	e.register("dave", goodPassword, "")

	res := e.do(http.MethodGet, "/api/auth/login/", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, res.Code)
	assert.Equal(t, map[string]any{"detail": `Method "GET" not allowed.`}, res.JSON(t))
	assert.Equal(t, "POST, OPTIONS", res.Header().Get("Allow"))

	res = e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "dave", "password": goodPassword})
	assert.Equal(t, http.StatusForbidden, res.Code)
	assert.Equal(t, map[string]any{"detail": "MFA required for this user"}, res.JSON(t))
	_, err := e.svc.Login(context.Background(), restauth.LoginRequest{Username: "dave", Password: goodPassword})
	assert.ErrorIs(t, err, restauth.ErrMFARequired)
}

func TestLoginMandatoryVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
	e.register("erin", goodPassword, "erin@example.com")
	res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "erin", "password": goodPassword})
	assert.Equal(t, http.StatusBadRequest, res.Code)
	assert.Equal(t, map[string]any{"non_field_errors": []any{"E-mail is not verified."}}, res.JSON(t))
}

func TestLogoutRevokesOnlyThePresentedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("frank", goodPassword, "")
	login := func() string {
		res := e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "frank", "password": goodPassword})
		require.Equal(t, http.StatusOK, res.Code)
		return res.JSON(t)["key"].(string)
	}
	first, second := login(), login()

	res := e.do(http.MethodPost, "/api/auth/logout/", nil, withToken(first))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, map[string]any{"detail": "Successfully logged out."}, res.JSON(t))

	res = e.do(http.MethodGet, "/api/auth/user/", nil, withToken(first))
	assert.Equal(t, http.StatusUnauthorized, res.Code)
	assert.Equal(t, map[string]any{"detail": "Token has been revoked"}, res.JSON(t))
	res = e.do(http.MethodGet, "/api/auth/user/", nil, withToken(second))
	assert.Equal(t, http.StatusOK, res.Code, "the other client's token stays valid")

	// A revoked token cannot log out again, and logout needs no login at all.
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodPost, "/api/auth/logout/", nil, withToken(first)).Code)
	assert.Equal(t, http.StatusOK, e.do(http.MethodPost, "/api/auth/logout/", nil).Code)
	assert.Equal(t, http.StatusMethodNotAllowed, e.do(http.MethodGet, "/api/auth/logout/", nil).Code)
}

func TestLoginRehashesWeakerHash(t *testing.T) {
	t.Parallel()
	// Register under a weak pbkdf2 configuration, then log in through a Service whose
	// configured hasher is stronger: the stored hash must be upgraded.
	weak := newEnv(t)
	u, _ := weak.register("gina", goodPassword, "")
	before, err := weak.store.UserByID(context.Background(), u.ID)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(before.PasswordHash, "pbkdf2_sha256$1$"), before.PasswordHash)

	strong, err := restauth.New(restauth.Config{
		Store: weak.store, Secret: testSecret, SiteURL: "http://testserver",
		Passwords: restauth.PasswordConfig{Algorithm: "argon2", Argon2MemoryKiB: 64, Argon2Time: 1, Argon2Threads: 1},
	})
	require.NoError(t, err)
	_, err = strong.Login(context.Background(), restauth.LoginRequest{Username: "gina", Password: goodPassword})
	require.NoError(t, err)
	after, err := weak.store.UserByID(context.Background(), u.ID)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(after.PasswordHash, "argon2$argon2id$"), after.PasswordHash)
	_, err = strong.Login(context.Background(), restauth.LoginRequest{Username: "gina", Password: goodPassword})
	assert.NoError(t, err, "the upgraded hash still verifies")
}
