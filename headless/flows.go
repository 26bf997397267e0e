package headless

import (
	"net/http"

	"github.com/restauth/restauth"
)

// pendingVerifyKey marks, in the session, a login or signup held back until its address is
// verified: allauth's pending verify_email stage.
const pendingVerifyKey = "_headless_pending_verify_email"

// flow is one entry of data.flows.
type flow struct {
	ID        string   `json:"id"`
	IsPending bool     `json:"is_pending,omitempty"`
	Types     []string `json:"types,omitempty"`
	Providers []string `json:"providers,omitempty"`
	// Provider is the provider of a pending provider_signup.
	Provider *providerConfig `json:"provider,omitempty"`
}

// userData is allauth's user object.
func userData(u *restauth.User) map[string]any {
	d := map[string]any{"id": u.ID, "display": u.Username, "has_usable_password": u.HasUsablePassword()}
	if u.Email != "" {
		d["email"] = u.Email
	}
	if u.Username != "" {
		d["username"] = u.Username
	}
	return d
}

// authAnswer is allauth's AuthenticationResponse: 200 with the user and the session's
// authentication records when u is logged in, else 401 with the flows that can start or
// complete a login.
func (c *call) authAnswer(u *restauth.User) *answer {
	if u != nil {
		return &answer{status: http.StatusOK, data: c.authenticated(u), meta: map[string]any{"is_authenticated": true}}
	}
	return &answer{
		status: http.StatusUnauthorized,
		data:   map[string]any{"flows": c.anonymousFlows()},
		meta:   map[string]any{"is_authenticated": false},
	}
}

func (c *call) authenticated(u *restauth.User) map[string]any {
	methods := c.svc().SessionAuthRecords(c.ctx)
	if methods == nil {
		methods = []restauth.AuthRecord{}
	}
	return map[string]any{"user": userData(u), "methods": methods}
}

// reauthRequired is allauth's ReauthenticationResponse: 401 for a logged-in user whose
// last authentication is not recent, with the flows that renew it.
func (c *call) reauthRequired(u *restauth.User) *answer {
	data := c.authenticated(u)
	var flows []flow
	if u.HasUsablePassword() {
		flows = append(flows, flow{ID: "reauthenticate"})
	}
	if types, err := c.svc().MFATypes(c.ctx, u); err == nil && len(types) > 0 {
		flows = append(flows, flow{ID: "mfa_reauthenticate", Types: types})
	}
	data["flows"] = flows
	return &answer{status: http.StatusUnauthorized, data: data, meta: map[string]any{"is_authenticated": true}}
}

// anonymousFlows lists the flows of an anonymous session, the pending one last.
func (c *call) anonymousFlows() []flow {
	f := c.svc().Features()
	flows := []flow{{ID: "login"}}
	if f.RegistrationOpen {
		flows = append(flows, flow{ID: "signup"})
	}
	if f.LoginByCode {
		if _, pending := c.pendingCode(pendingLoginCodeKey); !pending {
			flows = append(flows, flow{ID: "login_by_code"})
		}
	}
	flows = append(flows, c.codeFlows()...)
	flows = append(flows, c.trustFlows()...)
	flows = append(flows, c.providerFlows()...)
	flows = append(flows, c.webauthnFlows()...)
	if p, ok := c.svc().SessionPendingLogin(c.ctx); ok {
		types, err := c.svc().PendingLoginTypes(c.ctx, p)
		if err == nil {
			flows = append(flows, flow{ID: "mfa_authenticate", IsPending: true, Types: types})
		}
	} else if c.sessions().GetBool(c.ctx, pendingVerifyKey) {
		flows = append(flows, flow{ID: "verify_email", IsPending: true})
	}
	return flows
}
