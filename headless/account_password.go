package headless

import (
	"errors"

	"github.com/restauth/restauth"
)

// passwordChangeParams renames the password operations' fields to account/password/change's
// inputs.
var passwordChangeParams = map[string]string{
	"old_password":  "current_password",
	"new_password1": "new_password",
	"new_password2": "new_password",
	"":              "new_password",
	"password":      "new_password",
}

// passwordChange is POST account/password/change: the password changed (current_password
// checked), or set for a user without a usable password (no current_password). The
// session is then logged out (401, which allauth's clients count as success) unless
// Config.Dialects.HeadlessKeepSessionOnPasswordChange keeps it (200).
func (h *handler) passwordChange(c *call) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if a := c.decode(&in); a != nil {
		return a
	}
	var errs []apiError
	change := c.user.HasUsablePassword()
	if change && in.Current == "" {
		errs = append(errs, required("current_password"))
	}
	if in.New == "" {
		errs = append(errs, required("new_password"))
	}
	if errs != nil {
		return badRequest(errs...)
	}
	pc := restauth.PasswordChange{Old: in.Current, New1: in.New, New2: in.New, Session: restauth.SessionLoggedOut}
	if c.svc().DialectSettings().HeadlessKeepSessionOnPasswordChange {
		pc.Session = restauth.SessionKept
	}
	var (
		u   *restauth.User
		err error
	)
	if change {
		u, err = c.svc().ChangePassword(c.ctx, c.user, pc)
	} else {
		u, err = c.svc().SetPassword(c.ctx, c.user, pc)
	}
	var verr *restauth.ValidationError
	if errors.As(err, &verr) {
		a := c.fail(err)
		for i := range a.errors {
			if p, ok := passwordChangeParams[a.errors[i].Param]; ok {
				a.errors[i].Param = p
			}
		}
		return a
	}
	if err != nil {
		return c.fail(err)
	}
	if pc.Session == restauth.SessionLoggedOut {
		c.user = nil
		return c.authAnswer(nil)
	}
	c.user = u
	return c.authAnswer(u)
}
