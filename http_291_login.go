package restauth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/restauth/restauth/internal/drf"
)

// handleLogin serves dj-rest-auth's LoginView: the credentials in the body, whatever
// Basic says (the route is basicOnly), then a session for browsers and the token's key.
func (d *api291) handleLogin(w http.ResponseWriter, r *http.Request) error {
	f, err := d.decode(w, r)
	if err != nil {
		return err
	}
	// InvenTree's view looks at mfa before its serializer: the browser flow of
	// http_291_mfa_page.go.
	if f.Boolean("mfa") {
		return d.mfaFormLogin(w, r, f)
	}
	var errs ValidationError
	v := make(map[string]string, 4)
	for _, spec := range []charField{
		{Name: "username", AllowBlank: true},
		{Name: "email", AllowBlank: true, Email: true},
		{Name: "password", Required: true},
		{Name: "mfa_code", AllowBlank: true, MaxLen: 64},
	} {
		v[spec.Name], _ = f.Char(errs.drfFields(), spec)
	}
	if err := errs.orNil(); err != nil {
		return err
	}
	res, err := d.svc.Login(r.Context(), LoginRequest{Username: v["username"], Email: v["email"], Password: v["password"], MFACode: v["mfa_code"]})
	if errors.Is(err, ErrMFARequired) {
		// The reference's 403 comes after a session login and logout, so it carries a
		// csrftoken cookie: the UI's mfa form (after it deleted its cookie) sends that one.
		if _, cerr := d.formCSRFToken(w, r); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return err
	}
	return d.finishLogin(w, r, res)
}

// finishLogin logs the session in for a login that issued a token and answers the key.
func (d *api291) finishLogin(w http.ResponseWriter, r *http.Request, res *LoginResult) error {
	// The session is saved before the key is sent: when the store refuses it, the token
	// is revoked and the client told 503, so no key lives that its client never saw.
	err := d.loginSession(w, r, res.User)
	if err == nil {
		err = d.saveSession(w, r)
	}
	if err != nil {
		d.undoLogin(r, res)
		d.sessionUnavailable(w, r, err)
		return nil
	}
	noStore(w)
	drf.WriteJSON(w, http.StatusOK, struct {
		Key string `json:"key"`
	}{res.Token.Key})
	return nil
}

// undoLogin revokes the token a login issued when its answer cannot be given (its session
// was not saved). The login itself stays in the audit log, followed by the token's
// revocation; a revocation that fails too is logged, as the key then stays valid.
func (d *api291) undoLogin(r *http.Request, res *LoginResult) {
	ctx, cancel := undoContext(r)
	defer cancel()
	if err := d.svc.RevokeToken(ctx, res.User, res.Token.Token.ID); err != nil {
		d.svc.cfg.Logger.ErrorContext(ctx, "restauth: a login's token could not be revoked after its session failed",
			"user_id", res.User.ID, "token_id", res.Token.Token.ID, "error", err)
	}
}

// handleLogout serves dj-rest-auth's LogoutView: the operation revokes the token, the
// dialect ends the session (anonymous callers included, as the reference does). When the
// session store cannot delete the session, the answer is the 503 of a failed session
// (Retry-After, logged with the request's context), never a 500. The token revocation
// that already happened stays: the client asked to log out, a dead token is what it wants,
// and its retry (once the store is back) ends the session and finds nothing left to revoke.
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
	if err := d.svc.LogoutSession(ctx); err != nil {
		d.sessionUnavailable(w, r, err)
		return nil
	}
	writeDetail(w, http.StatusOK, "Successfully logged out.")
	return nil
}
