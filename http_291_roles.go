package restauth

import (
	"net/http"

	"github.com/restauth/restauth/internal/drf"
)

// rolesJSON is InvenTree's RoleSerializer output (/api/user/roles/).
type rolesJSON struct {
	User        int64               `json:"user"`
	Username    string              `json:"username"`
	Roles       map[string][]string `json:"roles"`
	Permissions map[string][]string `json:"permissions"`
	IsStaff     bool                `json:"is_staff"`
	IsSuperuser bool                `json:"is_superuser"`
}

// handleRoles serves InvenTree's RoleDetails view: the caller's roles as the host's
// Config.Roles reports them. The web UI drops a login whose roles/ call fails, so this
// route is part of logging in there.
func (d *api291) handleRoles(w http.ResponseWriter, r *http.Request) error {
	u := caller(r)
	roles, err := d.svc.Roles(r.Context(), u)
	if err != nil {
		return err
	}
	drf.WriteJSON(w, http.StatusOK, rolesJSON{
		User: u.ID, Username: u.Username, Roles: roles.Roles, Permissions: roles.Permissions,
		IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser,
	})
	return nil
}
