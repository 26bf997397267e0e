package headless

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// The provider signup step: a provider login whose user needs details first is pending
// (the provider_signup flow) until auth/provider/signup completes it.

// providerSignupInput is the body of POST auth/provider/signup.
type providerSignupInput struct {
	Email    string `json:"email"`
	Username string `json:"username"`
}

// keepPendingSignup keeps a social login's pending signup in the session: the answer is
// the anonymous session's, with provider_signup pending.
func (c *call) keepPendingSignup(p *restauth.PendingSocialSignup) *answer {
	if err := c.svc().PutPendingSocialSignup(c.ctx, p); err != nil {
		return c.fail(err)
	}
	return c.authAnswer(nil)
}

// pendingSignupFlow is the provider_signup flow of the session's pending signup.
func (c *call) pendingSignupFlow() (flow, bool) {
	p, ok := c.svc().SessionPendingSocialSignup(c.ctx)
	if !ok {
		return flow{}, false
	}
	return flow{ID: "provider_signup", IsPending: true, Provider: c.providerEntry(p.Provider)}, true
}

// providerSignupInfo is GET auth/provider/signup: the pending provider account, its
// address and the user it would make; 409 when none is pending.
func (h *handler) providerSignupInfo(c *call) *answer {
	p, pending := c.svc().SessionPendingSocialSignup(c.ctx)
	if !pending || c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	emails := []map[string]any{}
	if p.Email != "" {
		emails = append(emails, map[string]any{"email": p.Email, "primary": true, "verified": p.EmailVerified})
	}
	user := map[string]any{"display": p.Username, "has_usable_password": false, "username": p.Username}
	if p.Email != "" {
		user["email"] = p.Email
	}
	account := map[string]any{"uid": p.UID, "display": p.Username, "provider": c.providerEntry(p.Provider)}
	return ok(map[string]any{"email": emails, "account": account, "user": user})
}

// providerSignup is POST auth/provider/signup: the address and username that complete the
// pending signup, then the session logged in (200), or held back until the address is
// verified (401 with verify_email pending).
func (h *handler) providerSignup(c *call) *answer {
	p, pending := c.svc().SessionPendingSocialSignup(c.ctx)
	if !pending || c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	var in providerSignupInput
	if a := c.decode(&in); a != nil {
		return a
	}
	res, err := c.svc().CompleteSocialSignup(c.ctx, p, restauth.SocialSignupDetails{Email: in.Email, Username: in.Username})
	var verr *restauth.ValidationError
	var failed *restauth.SocialError
	switch {
	case errors.As(err, &verr):
		return c.fail(err)
	case errors.As(err, &failed):
		c.svc().DropPendingSocialSignup(c.ctx)
		return c.providerRefused(failed)
	case err != nil:
		return c.fail(err)
	}
	c.svc().DropPendingSocialSignup(c.ctx)
	return c.socialLoginSession(p.Provider, res)
}
