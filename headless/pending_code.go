package headless

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// The session keys of the mailed codes a session waits for (allauth keeps them in its
// login stash): the PendingCode, never the code, kept server side.
const (
	pendingLoginCodeKey  = "_headless_pending_login_code"
	pendingResetCodeKey  = "_headless_pending_reset_code"
	pendingVerifyCodeKey = "_headless_pending_verify_code"
)

// putPendingCode keeps p in the session under key.
func (c *call) putPendingCode(key string, p *restauth.PendingCode) *answer {
	raw, err := json.Marshal(p)
	if err != nil {
		return c.fail(err)
	}
	c.sessions().Put(c.ctx, key, string(raw))
	return nil
}

// pendingCode returns the PendingCode kept under key, ok false when there is none or it
// expired (its flow is then no longer pending).
func (c *call) pendingCode(key string) (restauth.PendingCode, bool) {
	var p restauth.PendingCode
	raw := c.sessions().GetString(c.ctx, key)
	if raw == "" || json.Unmarshal([]byte(raw), &p) != nil || !c.svc().Now().Before(p.Expires) {
		return restauth.PendingCode{}, false
	}
	return p, true
}

// dropPendingCode ends the flow kept under key.
func (c *call) dropPendingCode(key string) { c.sessions().Remove(c.ctx, key) }

// codeFailure answers a refused code: an incorrect one is allauth's 400 incorrect_code,
// and a void one (expired, attempts used up) ends the flow under key (allauth's 409 when
// answered with conflict, else the session's state).
func (c *call) codeFailure(key string, err error, void func() *answer) *answer {
	switch {
	case errors.Is(err, restauth.ErrInvalidCode):
		return badRequest(apiError{Code: "incorrect_code", Param: "code", Message: "Incorrect code."})
	case errors.Is(err, restauth.ErrCodeExpired):
		c.dropPendingCode(key)
		return void()
	case errors.Is(err, restauth.ErrCodeFlowDisabled):
		return statusOnly(http.StatusConflict)
	}
	return c.fail(err)
}

// codeFlows lists the pending mailed-code flows of an anonymous session (allauth's
// login_by_code and password_reset_by_code stages).
func (c *call) codeFlows() []flow {
	var flows []flow
	if _, ok := c.pendingCode(pendingLoginCodeKey); ok {
		flows = append(flows, flow{ID: "login_by_code", IsPending: true})
	}
	if _, ok := c.pendingCode(pendingResetCodeKey); ok {
		flows = append(flows, flow{ID: "password_reset_by_code", IsPending: true})
	}
	return flows
}
