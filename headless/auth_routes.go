package headless

import (
	"errors"
	"net/http"

	"github.com/restauth/restauth"
)

// config is GET config: the settings the front end adapts to.
func (h *handler) config(c *call) *answer {
	f := c.svc().Features()
	methods := []string{"username"}
	method := "username"
	if f.LoginByEmail {
		methods, method = []string{"email", "username"}, "username_email"
	}
	data := map[string]any{"account": map[string]any{
		"authentication_method":              method,
		"login_methods":                      methods,
		"is_open_for_signup":                 f.RegistrationOpen,
		"email_verification_by_code_enabled": f.EmailVerificationByCode,
		"login_by_code_enabled":              f.LoginByCode,
		"password_reset_by_code_enabled":     f.PasswordResetByCode,
	}}
	if f.MFAEnabled {
		mfa := map[string]any{"supported_types": []string{"recovery_codes", "totp"}}
		webauthnConfig(f, mfa)
		data["mfa"] = mfa
	}
	// The sessions list (auth/sessions) is always served; allauth's front ends show their
	// sessions page only when this key is present. Activity is not tracked: a session's
	// last_seen_at is its login.
	data["usersessions"] = map[string]any{"track_activity": false}
	c.socialConfig(data)
	return ok(data)
}

// session is GET auth/session: the session's user (200) or its flows (401).
func (h *handler) session(c *call) *answer { return c.authAnswer(c.user) }

// logout is DELETE auth/session: the session ends, answered as an anonymous one (401).
func (h *handler) logout(c *call) *answer {
	if err := c.revokeJWT(); err != nil {
		return c.fail(err)
	}
	if c.user != nil {
		if err := c.svc().Logout(c.ctx, restauth.LogoutRequest{User: c.user}); err != nil {
			return c.fail(err)
		}
	}
	if err := c.svc().LogoutSession(c.ctx); err != nil {
		return c.fail(err)
	}
	c.user = nil
	return c.authAnswer(nil)
}

// credentials is the body of auth/login and auth/signup.
type credentials struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login is POST auth/login: the password step, then either the session (200), a pending
// second factor or address verification (401 with the pending flow), or 409 when the
// session is logged in already.
func (h *handler) login(c *call) *answer {
	if c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	var in credentials
	if a := c.decode(&in); a != nil {
		return a
	}
	byEmail := in.Email != "" && c.svc().Features().LoginByEmail
	var errs []apiError
	if in.Username == "" && !byEmail {
		param := "username"
		if c.svc().Features().LoginByEmail {
			param = "email"
		}
		errs = append(errs, required(param))
	}
	if in.Password == "" {
		errs = append(errs, required("password"))
	}
	if errs != nil {
		return badRequest(errs...)
	}
	res, err := c.svc().Login(c.ctx, restauth.LoginRequest{Username: in.Username, Email: in.Email, Password: in.Password, Defer: true, WithoutToken: true, MailVerification: true, MFATrust: c.mfaTrustCookie()})
	rec := c.svc().NewAuthRecord("password")
	if byEmail {
		rec.Email = in.Email
	} else {
		rec.Username = in.Username
	}
	switch {
	case errors.Is(err, restauth.ErrInvalidCredentials):
		return loginMismatch(byEmail)
	case errors.Is(err, restauth.ErrEmailNotVerified):
		c.sessions().Put(c.ctx, pendingVerifyKey, true)
		// By code, the verify_email flow goes on with the code the refusal mailed.
		var byCode *restauth.VerificationPendingError
		if errors.As(err, &byCode) {
			if a := c.putPendingCode(pendingVerifyCodeKey, byCode.Code); a != nil {
				return a
			}
		}
		return c.authAnswer(nil)
	case err != nil:
		return c.fail(err)
	case res.Pending != nil:
		return c.pendSecondFactor(*res.Pending, rec)
	}
	records := []restauth.AuthRecord{rec}
	if mfa, used := c.svc().MFARecord(res); used {
		records = append(records, mfa)
	}
	return c.loginSession(res.User, records...)
}

// signup is POST auth/signup: a new account, logged in (200) or held back until its
// address is verified (401 with the pending verify_email flow); 403 when signup is
// closed, 409 when the session is logged in.
func (h *handler) signup(c *call) *answer {
	if c.user != nil {
		return statusOnly(http.StatusConflict)
	}
	f := c.svc().Features()
	if !f.RegistrationOpen {
		return statusOnly(http.StatusForbidden)
	}
	var in credentials
	if a := c.decode(&in); a != nil {
		return a
	}
	if in.Password == "" {
		return badRequest(required("password"))
	}
	res, err := c.svc().Register(c.ctx, restauth.RegisterRequest{
		Username: in.Username, Email: in.Email, Password1: in.Password, Password2: in.Password, WithoutToken: true,
	})
	if errors.Is(err, restauth.ErrRegistrationClosed) {
		return statusOnly(http.StatusForbidden)
	}
	if err != nil {
		return c.fail(err)
	}
	if res.User == nil || f.EmailVerification == restauth.VerificationMandatory {
		// A concealed refusal (enumeration prevention) answers exactly as a new account.
		c.sessions().Put(c.ctx, pendingVerifyKey, true)
		if a := c.keepVerificationCode(res); a != nil {
			return a
		}
		return c.authAnswer(nil)
	}
	rec := c.svc().NewAuthRecord("password")
	rec.Username, rec.Email = res.User.Username, in.Email
	return c.loginSession(res.User, rec)
}

// reauthenticate is POST auth/reauthenticate: the password again, which makes the
// session's authentication recent.
func (h *handler) reauthenticate(c *call) *answer {
	var in struct {
		Password string `json:"password"`
	}
	return c.reauth(func() (*answer, restauth.MFAProof) {
		if a := c.decode(&in); a != nil {
			return a, restauth.MFAProof{}
		}
		if in.Password == "" {
			return badRequest(required("password")), restauth.MFAProof{}
		}
		return nil, restauth.MFAProof{Password: in.Password}
	})
}

// reauth runs a reauthentication with the proof read decodes.
func (c *call) reauth(read func() (*answer, restauth.MFAProof)) *answer {
	if c.user == nil {
		return c.authAnswer(nil)
	}
	a, proof := read()
	if a != nil {
		return a
	}
	_, err := c.svc().ReauthenticateSession(c.ctx, c.user, proof)
	var verr *restauth.ValidationError
	if errors.As(err, &verr) && proof.Password != "" {
		return badRequest(apiError{Code: "incorrect_password", Param: "password", Message: "Incorrect password."})
	}
	if err != nil {
		return c.fail(err)
	}
	return c.authAnswer(c.user)
}
