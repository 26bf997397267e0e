package restauth_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

func TestUserDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("tara", goodPassword, "tara@example.com")
	e.register("uma", goodPassword, "")

	res := e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, map[string]any{"pk": float64(u.ID), "username": "tara", "email": "tara@example.com", "first_name": "", "last_name": ""}, res.JSON(t))

	tests := []struct {
		name   string
		method string
		body   any
		status int
		want   map[string]any
	}{
		{"patch names", "PATCH", map[string]any{"first_name": "Tara", "last_name": "Smith", "email": "ignored@example.com"}, 200,
			map[string]any{"pk": float64(u.ID), "username": "tara", "email": "tara@example.com", "first_name": "Tara", "last_name": "Smith"}},
		{"put own username is accepted", "PUT", map[string]any{"username": "tara", "first_name": "T"}, 200,
			map[string]any{"pk": float64(u.ID), "username": "tara", "email": "tara@example.com", "first_name": "T", "last_name": "Smith"}},
		{"put needs username", "PUT", map[string]any{"first_name": "T"}, 400, map[string]any{"username": []any{"This field is required."}}},
		{"username of another user in other case", "PATCH", map[string]any{"username": "UMA"}, 400, map[string]any{"username": []any{"A user with that username already exists."}}},
		{"invalid username", "PATCH", map[string]any{"username": "no spaces"}, 400,
			map[string]any{"username": []any{"Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."}}},
		{"long first name", "PATCH", map[string]any{"first_name": strings.Repeat("x", 151)}, 400,
			map[string]any{"first_name": []any{"Ensure this field has no more than 150 characters."}}},
		{"form-encoded rename", "PATCH", url.Values{"username": {"tara.b"}}, 200,
			map[string]any{"pk": float64(u.ID), "username": "tara.b", "email": "tara@example.com", "first_name": "T", "last_name": "Smith"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, "/api/auth/user/", tc.body, withToken(key))
			require.Equal(t, tc.status, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
}

func TestPasswordChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("victor", goodPassword, "victor@example.com")
	const newPassword = "another-long-passphrase"

	tests := []struct {
		name string
		body map[string]any
		want map[string]any
	}{
		{"missing", map[string]any{}, map[string]any{
			"old_password": []any{"This field is required."}, "new_password1": []any{"This field is required."}, "new_password2": []any{"This field is required."}}},
		{"wrong old", map[string]any{"old_password": "nope", "new_password1": newPassword, "new_password2": newPassword}, map[string]any{
			"old_password": []any{"Your old password was entered incorrectly. Please enter it again."}}},
		{"mismatch", map[string]any{"old_password": goodPassword, "new_password1": newPassword, "new_password2": "x"}, map[string]any{
			"new_password2": []any{"The two password fields didn\u2019t match."}}},
		{"validators", map[string]any{"old_password": goodPassword, "new_password1": "victor", "new_password2": "victor"}, map[string]any{
			"new_password2": []any{"The password is too similar to the username.", "This password is too short. It must contain at least 8 characters.", "This password is too common."}}},
		{"too long", map[string]any{"old_password": goodPassword, "new_password1": strings.Repeat("a", 129), "new_password2": "x"}, map[string]any{
			"new_password1": []any{"Ensure this field has no more than 128 characters."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/password/change/", tc.body, withToken(key))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}

	t.Run("success ends other sessions, keeps this one and the tokens", func(t *testing.T) {
		this := e.browser()
		other := this.share()
		for _, b := range []*browser{this, other} {
			status, _ := b.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "victor", "password": goodPassword})
			require.Equal(t, http.StatusOK, status)
		}
		status, body := this.do(http.MethodPost, "/api/auth/password/change/",
			map[string]any{"old_password": goodPassword, "new_password1": newPassword, "new_password2": newPassword})
		require.Equal(t, http.StatusOK, status, string(body))
		assert.JSONEq(t, `{"detail":"New password has been saved."}`, string(body))

		status, _ = this.do(http.MethodGet, "/api/auth/user/", nil)
		assert.Equal(t, http.StatusOK, status, "the changing session stays logged in")
		status, _ = other.do(http.MethodGet, "/api/auth/user/", nil)
		assert.Equal(t, http.StatusUnauthorized, status, "other sessions end")
		assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/auth/user/", nil, withToken(key)).Code, "tokens stay valid")

		assert.Equal(t, http.StatusBadRequest, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "victor", "password": goodPassword}).Code)
		assert.Equal(t, http.StatusOK, e.do(http.MethodPost, "/api/auth/login/", map[string]any{"username": "victor", "password": newPassword}).Code)
	})
}

func TestPasswordChangeWithoutOld(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.AllowPasswordChangeWithoutOld = true })
	_, key := e.register("wendy", goodPassword, "")
	res := e.do(http.MethodPost, "/api/auth/password/change/", map[string]any{"new_password1": "brand-new-secret-9", "new_password2": "brand-new-secret-9"}, withToken(key))
	assert.Equal(t, http.StatusOK, res.Code, res.Body.String())
}

func TestMe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, _ := e.register("xena", goodPassword, "xena@example.com")
	res := e.do(http.MethodGet, "/api/user/me/", nil, withBasic("xena", goodPassword))
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, map[string]any{"pk": float64(u.ID), "username": "xena", "first_name": "", "last_name": "", "email": "xena@example.com",
		"groups": []any{}, "is_staff": false, "is_superuser": false, "is_active": true}, res.JSON(t))

	res = e.do(http.MethodPut, "/api/user/me/", map[string]any{"first_name": "Xena", "last_name": "W", "username": "ignored"}, withBasic("xena", goodPassword))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	body := res.JSON(t)
	assert.Equal(t, "Xena", body["first_name"])
	assert.Equal(t, "xena", body["username"], "username is read-only here")
	assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/", nil).Code)
}

func TestUserTokenRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, loginKey := e.register("yara", goodPassword, "")
	other, otherKey := e.register("zed", goodPassword, "")
	_ = other

	// The Python client's flow: Basic auth, ?name=, then the token header.
	res := e.do(http.MethodGet, "/api/user/token/?name=inventree%20python%20client%3Cb%3E", nil, withBasic("yara", goodPassword))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	body := res.JSON(t)
	assert.Equal(t, "inventree-python-client", body["name"])
	assert.Equal(t, "2025-11-30", body["expiry"])
	named := body["token"].(string)
	assert.Equal(t, http.StatusOK, e.do(http.MethodGet, "/api/user/me/", nil, withToken(named)).Code)

	// A name is one token: asking again hands back the same key (InvenTree's
	// GetAuthToken); three other names are three more tokens.
	again := e.do(http.MethodGet, "/api/user/token/?name=inventree-python-client", nil, withBasic("yara", goodPassword))
	require.Equal(t, http.StatusOK, again.Code, again.Body.String())
	assert.Equal(t, named, again.JSON(t)["token"])
	for i := range 3 {
		path := "/api/user/token/?name=script-" + strconv.Itoa(i)
		require.Equal(t, http.StatusOK, e.do(http.MethodGet, path, nil, withToken(loginKey)).Code)
	}

	list := e.do(http.MethodGet, "/api/user/tokens/", nil, withToken(named))
	require.Equal(t, http.StatusOK, list.Code)
	items := list.List(t)
	require.Len(t, items, 5)
	inUse := 0
	for _, it := range items {
		assert.Equal(t, float64(u.ID), it["user"])
		assert.Regexp(t, `^inv-[0-9a-f]{4}\*{33}[0-9a-f]{3}-20241130$`, it["token"])
		assert.NotContains(t, []string{loginKey, named}, it["token"])
		assert.Equal(t, true, it["active"])
		if it["in_use"] == true {
			inUse++
		}
	}
	assert.Equal(t, 1, inUse)

	t.Run("pagination", func(t *testing.T) {
		res := e.do(http.MethodGet, "/api/user/tokens/?limit=2&offset=2", nil, withToken(named))
		require.Equal(t, http.StatusOK, res.Code)
		p := res.JSON(t)
		assert.Equal(t, float64(5), p["count"])
		assert.Equal(t, "http://testserver/api/user/tokens/?limit=2&offset=4", p["next"])
		assert.Equal(t, "http://testserver/api/user/tokens/?limit=2", p["previous"])
		assert.Len(t, p["results"], 2)

		res = e.do(http.MethodGet, "/api/user/tokens/?limit=2&offset=4", nil, withToken(named))
		p = res.JSON(t)
		assert.Nil(t, p["next"])
		assert.Equal(t, "http://testserver/api/user/tokens/?limit=2&offset=2", p["previous"])
		assert.Len(t, p["results"], 1)

		for _, q := range []string{"limit=0", "limit=-1", "limit=abc"} {
			res := e.do(http.MethodGet, "/api/user/tokens/?"+q, nil, withToken(named))
			assert.Len(t, res.List(t), 5, q)
		}
	})

	t.Run("revoke", func(t *testing.T) {
		id := items[0]["id"].(float64)
		path := "/api/user/tokens/" + fmtFloat(id) + "/"
		assert.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, path, nil, withToken(otherKey)).Code, "another user's token")
		res := e.do(http.MethodDelete, path, nil, withToken(named))
		require.Equal(t, http.StatusNoContent, res.Code)
		res = e.do(http.MethodGet, "/api/user/tokens/", nil, withToken(named))
		assert.Equal(t, true, res.List(t)[0]["revoked"])
		assert.Equal(t, false, res.List(t)[0]["active"])
		assert.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, "/api/user/me/", nil, withToken(loginKey)).Code)
		assert.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, "/api/user/tokens/99999/", nil, withToken(named)).Code)
	})
}
