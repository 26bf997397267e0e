package restauth

import (
	"net/http"
	"strings"
)

// handleLogin serves dj-rest-auth's LoginView: the credentials in the body, whatever
// Basic says (the route is basicOnly), then a session for browsers and the token's key.
func (d *api291) handleLogin(w http.ResponseWriter, r *http.Request) error {
	v, err := d.fields(w, r,
		charField{name: "username", allowBlank: true},
		charField{name: "email", allowBlank: true, email: true},
		charField{name: "password", required: true},
		charField{name: "mfa_code", allowBlank: true, maxLen: 64},
	)
	if err != nil {
		return err
	}
	res, err := d.svc.Login(r.Context(), LoginRequest{Username: v["username"], Email: v["email"], Password: v["password"], MFACode: v["mfa_code"]})
	if err != nil {
		return err
	}
	if err := d.loginSession(w, r, res.User); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Key string `json:"key"`
	}{res.Token.Key})
	return nil
}

// handleLogout serves dj-rest-auth's LogoutView: the operation revokes the token, the
// dialect ends the session (anonymous callers included, as the reference does).
func (d *api291) handleLogout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	req := LogoutRequest{User: caller(r), Token: callerToken(r)}
	// The reference also revokes a token presented as "Bearer <key>", which DRF's
	// TokenAuthentication does not authenticate.
	if scheme, key, _ := splitAuthorization(r.Header.Get("Authorization")); strings.EqualFold(scheme, "bearer") {
		req.Key = key
	}
	if err := d.svc.Logout(ctx, req); err != nil {
		return err
	}
	if err := d.svc.sessions.Destroy(ctx); err != nil {
		return err
	}
	writeDetail(w, http.StatusOK, "Successfully logged out.")
	return nil
}
