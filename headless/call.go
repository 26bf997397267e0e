package headless

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/restauth/restauth"
)

// sessionTokenHeader names the app client's session.
const sessionTokenHeader = "X-Session-Token"

// maxBodyBytes bounds a request body.
const maxBodyBytes = 64 << 10

// call is one request: its client, its session (loaded into ctx) and the caller.
type call struct {
	h      *handler
	client Client
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	// token is the session token the request came with ("" for none).
	token string
	// user is the session's user, nil when anonymous.
	user *restauth.User
	// csrfRotated is set once a login set a new csrftoken cookie.
	csrfRotated bool
	// jwtSessionID is the JWT login of an app request authenticated by its access token.
	jwtSessionID string
}

func (c *call) svc() *restauth.Service { return c.h.svc }

func (c *call) sessions() *scs.SessionManager { return c.h.svc.Sessions() }

// serve runs the route's method for the request, with the session loaded and saved around
// it, and writes the answer.
func (c *call) serve(rt route) {
	a := c.run(rt)
	if a == nil {
		return
	}
	if err := c.saveSession(a); err != nil {
		a = c.fail(err)
	}
	if c.client == Browser && !c.csrfRotated {
		// Django's get_token: every browser answer carries the csrftoken cookie.
		if _, err := c.svc().CSRFToken(c.w, c.r); err != nil {
			a = c.fail(err)
		}
	}
	writeAnswer(c.w, a)
}

func (c *call) run(rt route) *answer {
	if rt == nil {
		return statusOnly(http.StatusNotFound)
	}
	c.w.Header().Add("Vary", "Cookie")
	if c.client == Browser {
		if cookie, err := c.r.Cookie(c.sessions().Cookie.Name); err == nil {
			c.token = cookie.Value
		}
	} else {
		c.token = c.r.Header.Get(sessionTokenHeader)
	}
	ctx, err := c.sessions().Load(c.r.Context(), c.token)
	if err != nil {
		return c.fail(err)
	}
	c.ctx = ctx
	if c.client == App && c.token != "" && c.sessions().Token(ctx) == "" {
		// The token names no session (expired, logged out elsewhere): allauth's 410.
		a := c.authAnswer(nil)
		a.status = http.StatusGone
		a.data = map[string]any{}
		return a
	}
	if c.client == Browser && !isSafe(c.r.Method) {
		if err := c.svc().CheckCSRF(c.r); err != nil {
			var perr *restauth.PermissionError
			msg := "CSRF Failed."
			if errors.As(err, &perr) {
				msg = perr.Detail
			}
			return &answer{status: http.StatusForbidden, errors: []apiError{{Code: "csrf", Message: msg}}}
		}
	}
	handle := rt[c.r.Method]
	if handle == nil {
		return statusOnly(http.StatusMethodNotAllowed)
	}
	if c.user, err = c.svc().SessionUser(ctx); err != nil {
		return c.fail(err)
	}
	if err := c.bearerUser(); err != nil {
		return c.fail(err)
	}
	return handle(c)
}

// saveSession commits a changed session before the answer is written: the browser gets
// its cookie, the app client a new token in meta.session_token.
func (c *call) saveSession(a *answer) error {
	if c.ctx == nil {
		return nil
	}
	sm := c.sessions()
	switch sm.Status(c.ctx) {
	case scs.Modified:
		token, expiry, err := sm.Commit(c.ctx)
		if err != nil {
			return err
		}
		if c.client == Browser {
			sm.WriteSessionCookie(c.ctx, c.w, token, expiry)
		} else if token != c.token && a.meta != nil {
			a.meta["session_token"] = token
		}
	case scs.Destroyed:
		if c.client == Browser {
			sm.WriteSessionCookie(c.ctx, c.w, "", time.Time{})
		}
	}
	return nil
}

func isSafe(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// decode reads the JSON object body into v; a body that is not one is a 400.
func (c *call) decode(v any) *answer {
	body := http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes)
	raw, err := io.ReadAll(body)
	if err == nil && len(raw) == 0 {
		raw = []byte("{}")
	}
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		return badRequest(apiError{Code: "invalid", Message: "Invalid JSON."})
	}
	return nil
}

// required is allauth's error for a missing input.
func required(param string) apiError {
	return apiError{Code: "required", Param: param, Message: "This field is required."}
}

// loginSession logs u into the session with records and rotates the CSRF token.
func (c *call) loginSession(u *restauth.User, records ...restauth.AuthRecord) *answer {
	if err := c.svc().LoginSession(c.ctx, u, records...); err != nil {
		return c.fail(err)
	}
	c.sessions().Remove(c.ctx, pendingVerifyKey)
	c.sessions().Remove(c.ctx, firstFactorKey)
	c.dropPendingCode(pendingLoginCodeKey)
	if c.client == Browser {
		if err := c.svc().RotateCSRFCookie(c.w); err != nil {
			return c.fail(err)
		}
		c.csrfRotated = true
	}
	c.user = u
	if c.jwtOn() {
		return c.issueJWT(c.authAnswer(u), u)
	}
	return c.authAnswer(u)
}
