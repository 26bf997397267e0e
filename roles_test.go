package restauth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// inventreeRoles are InvenTree's rule sets at API 291, which the web UI looks up by name.
var inventreeRoles = []string{
	"admin", "part_category", "part", "stocktake", "stock_location", "stock",
	"build", "purchase_order", "sales_order", "return_order",
}

// rolesWith is the "roles" object with every InvenTree role set to perms.
func rolesWith(perms any) map[string]any {
	m := make(map[string]any, len(inventreeRoles))
	for _, name := range inventreeRoles {
		m[name] = perms
	}
	return m
}

func TestRoleNamesAndPermissions(t *testing.T) {
	t.Parallel()
	assert.Equal(t, inventreeRoles, restauth.RoleNames())
	assert.Equal(t, []string{"view", "add", "change", "delete"}, restauth.RolePermissions())
	restauth.RoleNames()[0] = "changed"
	assert.Equal(t, "admin", restauth.RoleNames()[0], "RoleNames returns a copy")
}

func TestRolesDefault(t *testing.T) {
	t.Parallel()
	all := []any{"view", "add", "change", "delete"}
	tests := []struct {
		name             string
		staff, superuser bool
		roles            map[string]any
	}{
		{"plain user", false, false, rolesWith(nil)},
		{"staff", true, false, rolesWith(nil)},
		{"superuser", false, true, rolesWith(all)},
		{"staff superuser", true, true, rolesWith(all)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			u, key := e.register("rolf", goodPassword, "")
			_, err := e.store.UpdateUser(context.Background(), u.ID, restauth.UserUpdate{IsStaff: &tc.staff, IsSuperuser: &tc.superuser})
			require.NoError(t, err)

			res := e.do(http.MethodGet, "/api/user/roles/", nil, withToken(key))
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
			assert.Equal(t, map[string]any{
				"user": float64(u.ID), "username": "rolf", "roles": tc.roles, "permissions": map[string]any{},
				"is_staff": tc.staff, "is_superuser": tc.superuser,
			}, res.JSON(t))
		})
	}
}

func TestRolesCustomHook(t *testing.T) {
	t.Parallel()
	var seen *restauth.User
	e := newEnv(t, func(c *restauth.Config) {
		c.Roles = func(_ context.Context, u *restauth.User) (restauth.Roles, error) {
			seen = u
			return restauth.Roles{
				Roles: map[string][]string{
					"part":           {"view", "change"},
					"stock":          {},       // empty is reported as null
					"transfer_order": {"view"}, // a name of a newer InvenTree is kept
				},
				Permissions: map[string][]string{"part": {"view", "change"}},
			}, nil
		}
	})
	u, _ := e.register("hugo", goodPassword, "")

	res := e.do(http.MethodGet, "/api/user/roles/", nil, withBasic("hugo", goodPassword))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	want := rolesWith(nil)
	want["part"] = []any{"view", "change"}
	want["transfer_order"] = []any{"view"}
	assert.Equal(t, map[string]any{
		"user": float64(u.ID), "username": "hugo", "roles": want,
		"permissions": map[string]any{"part": []any{"view", "change"}},
		"is_staff":    false, "is_superuser": false,
	}, res.JSON(t))
	require.NotNil(t, seen)
	assert.Equal(t, u.ID, seen.ID, "the hook is asked about the caller")
}

func TestRolesHookErrorAndAnonymous(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) {
		c.Roles = func(context.Context, *restauth.User) (restauth.Roles, error) {
			return restauth.Roles{}, errors.New("directory unreachable")
		}
	})
	_, key := e.register("ines", goodPassword, "")
	res := e.do(http.MethodGet, "/api/user/roles/", nil, withToken(key))
	assert.Equal(t, http.StatusInternalServerError, res.Code)
	assert.NotContains(t, res.Body.String(), "directory unreachable", "the error's text is never shown")

	res = e.do(http.MethodGet, "/api/user/roles/", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Code)
	assert.Equal(t, map[string]any{"detail": "Authentication credentials were not provided."}, res.JSON(t))
	assert.Equal(t, "Token", res.Header().Get("WWW-Authenticate"))
	assert.Equal(t, http.StatusMethodNotAllowed, e.do(http.MethodPost, "/api/user/roles/", map[string]any{}, withToken(key)).Code)
}

func TestServiceRolesNormalises(t *testing.T) {
	t.Parallel()
	hostRoles := map[string][]string{"admin": {"view"}}
	e := newEnv(t, func(c *restauth.Config) {
		c.Roles = func(context.Context, *restauth.User) (restauth.Roles, error) {
			return restauth.Roles{Roles: hostRoles}, nil
		}
	})
	u, _ := e.register("nora", goodPassword, "")
	r, err := e.svc.Roles(context.Background(), u)
	require.NoError(t, err)
	assert.Len(t, r.Roles, len(inventreeRoles), "every role is reported")
	assert.Equal(t, []string{"view"}, r.Roles["admin"])
	assert.Nil(t, r.Roles["part"])
	assert.NotNil(t, r.Permissions, "permissions are {} rather than null")
	r.Roles["admin"][0] = "delete"
	assert.Equal(t, []string{"view"}, hostRoles["admin"], "the host's maps are not changed")
}
