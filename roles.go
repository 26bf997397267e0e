package restauth

import (
	"context"
	"maps"
	"slices"
)

// roleNames are InvenTree's rule sets at API 291 (users.models.RuleSet.RULESET_CHOICES),
// in its order. The web UI looks each one up by name to show or hide a whole section, so
// every name is always reported, null when the user holds nothing in it.
var roleNames = []string{
	"admin", "part_category", "part", "stocktake", "stock_location", "stock",
	"build", "purchase_order", "sales_order", "return_order",
}

// rolePermissions are InvenTree's permissions within a role (RULESET_PERMISSIONS), in its
// order.
var rolePermissions = []string{"view", "add", "change", "delete"}

// RoleNames returns InvenTree's role names at API 291, which GET /api/user/roles/ always
// reports: admin, part_category, part, stocktake, stock_location, stock, build,
// purchase_order, sales_order, return_order. The slice is a copy.
func RoleNames() []string { return slices.Clone(roleNames) }

// RolePermissions returns the permissions a role can grant, in InvenTree's order: view,
// add, change, delete. The slice is a copy.
func RolePermissions() []string { return slices.Clone(rolePermissions) }

// Roles is a user's authorization as InvenTree's clients read it from GET /api/user/roles/.
// restauth holds no authorization model of its own: the host supplies it through
// Config.Roles, and DefaultRoles derives it from the user's flags.
type Roles struct {
	// Roles maps a role name (RoleNames; other names are reported too, for a host that
	// follows a newer InvenTree) to the permissions the user holds in it (RolePermissions).
	// A role that is missing or holds no permission is reported as null, as InvenTree does.
	Roles map[string][]string
	// Permissions maps a model name (Django's model permissions, e.g. "part") to the
	// permissions the user holds on it. Nil is reported as {}.
	Permissions map[string][]string
}

// DefaultRoles is the Roles used when Config.Roles is nil: a superuser holds every role
// with every permission, as in InvenTree, where a superuser passes every check; anyone
// else, staff included, holds none (InvenTree grants roles through groups, which restauth
// does not have). Permissions is empty: restauth knows no models.
func DefaultRoles(_ context.Context, u *User) (Roles, error) {
	r := Roles{Roles: make(map[string][]string, len(roleNames)), Permissions: map[string][]string{}}
	if u.IsSuperuser {
		for _, name := range roleNames {
			r.Roles[name] = RolePermissions()
		}
	}
	return r, nil
}

// Roles returns u's authorization (Config.Roles, else DefaultRoles) in the shape GET
// /api/user/roles/ reports: every name of RoleNames present, an empty permission list
// turned into nil (null), and Permissions never nil. The host's maps are not changed.
func (s *Service) Roles(ctx context.Context, u *User) (Roles, error) {
	hook := s.cfg.Roles
	if hook == nil {
		hook = DefaultRoles
	}
	got, err := hook(ctx, u)
	if err != nil {
		return Roles{}, err
	}
	r := Roles{Roles: make(map[string][]string, len(roleNames)), Permissions: maps.Clone(got.Permissions)}
	for name, perms := range got.Roles {
		r.Roles[name] = nil
		if len(perms) > 0 {
			r.Roles[name] = slices.Clone(perms)
		}
	}
	for _, name := range roleNames {
		if _, ok := r.Roles[name]; !ok {
			r.Roles[name] = nil
		}
	}
	if r.Permissions == nil {
		r.Permissions = map[string][]string{}
	}
	return r, nil
}
