package headless

import (
	"errors"
	"net/http"
	"strings"

	"github.com/restauth/restauth"
)

// This file serves allauth's JWT token strategy for the app client
// (HEADLESS_TOKEN_STRATEGY = JWTTokenStrategy, on with Options.AppJWT): a login answers
// meta.access_token and meta.refresh_token beside the session token, requests may
// authenticate with "Authorization: Bearer <access>", POST tokens/refresh rotates the
// pair, and logout revokes it. The tokens are the core's (IssueJWT, AuthenticateJWT,
// RefreshJWT, RevokeJWT).

// jwtSessionKey holds, in the app session, the id of the JWT login issued with it, so that
// ending the session by its token also revokes the tokens.
const jwtSessionKey = "_headless_jwt_sid"

// jwtOn reports whether this call's client uses JWTs.
func (c *call) jwtOn() bool { return c.client == App && c.h.opts.AppJWT }

// bearerUser authenticates an app request by its access token when the session names no
// user: an invalid or expired token leaves the request anonymous, as allauth does.
func (c *call) bearerUser() error {
	if !c.jwtOn() || c.user != nil {
		return nil
	}
	access, ok := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer ")
	if !ok || access == "" {
		return nil
	}
	u, sess, err := c.svc().AuthenticateJWT(c.ctx, strings.TrimSpace(access))
	if errors.Is(err, restauth.ErrJWTInvalid) {
		return nil
	}
	if err != nil {
		return err
	}
	c.user, c.jwtSessionID = u, sess.ID
	return nil
}

// issueJWT adds a new token pair for u to a login's meta.
func (c *call) issueJWT(a *answer, u *restauth.User) *answer {
	pair, err := c.svc().IssueJWT(c.ctx, u)
	if err != nil {
		return c.fail(err)
	}
	c.sessions().Put(c.ctx, jwtSessionKey, pair.SessionID)
	a.meta["access_token"] = pair.AccessToken
	a.meta["refresh_token"] = pair.RefreshToken
	return a
}

// revokeJWT ends the JWT login of the request (its bearer token's, or its session's).
func (c *call) revokeJWT() error {
	if !c.jwtOn() || c.user == nil {
		return nil
	}
	sid := c.jwtSessionID
	if sid == "" {
		sid = c.sessions().GetString(c.ctx, jwtSessionKey)
	}
	if sid == "" {
		return nil
	}
	if err := c.svc().RevokeJWT(c.ctx, c.user, sid); err != nil && !errors.Is(err, restauth.ErrJWTInvalid) {
		return err
	}
	return nil
}

// tokensRefresh is POST tokens/refresh (app client): the refresh token exchanged for a
// new pair (rotation); a used, revoked or expired one is 400.
func (h *handler) tokensRefresh(c *call) *answer {
	if !c.jwtOn() {
		return statusOnly(http.StatusNotFound)
	}
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.RefreshToken == "" {
		return badRequest(required("refresh_token"))
	}
	pair, err := c.svc().RefreshJWT(c.ctx, in.RefreshToken)
	if errors.Is(err, restauth.ErrJWTInvalid) {
		return badRequest(apiError{Code: "invalid", Param: "refresh_token", Message: "Invalid or expired refresh token."})
	}
	if err != nil {
		return c.fail(err)
	}
	return ok(map[string]any{"access_token": pair.AccessToken, "refresh_token": pair.RefreshToken})
}
