package restauth

import (
	"net/http"

	"github.com/restauth/restauth/internal/drf"
)

// handleRegister serves dj-rest-auth's RegisterView. As dj-rest-auth 7 with InvenTree's
// SESSION_LOGIN on, a registration that need not wait for verification answers 204 with
// no body and a logged-in session (InvenTree's web UI takes only a 204 as success), and
// no token is issued; Config.RegistrationTokenAnswer gives SESSION_LOGIN off's 201
// {"key": …} instead. Mandatory verification answers 201 {"detail": …} either way.
func (d *api291) handleRegister(w http.ResponseWriter, r *http.Request) error {
	f, err := d.decode(w, r)
	if err != nil {
		return err
	}
	// The fields' errors are not answered here: Register still runs the checks of the
	// fields that passed and reports everything together, as DRF does.
	var errs ValidationError
	username, _ := f.Char(errs.drfFields(), charField{Name: "username", Required: true, MaxLen: maxUsernameLength})
	email, _ := f.Char(errs.drfFields(), charField{Name: "email", Email: true})
	password1, _ := f.Char(errs.drfFields(), charField{Name: "password1", Required: true})
	password2, _ := f.Char(errs.drfFields(), charField{Name: "password2", Required: true})
	tokenAnswer := d.svc.cfg.RegistrationTokenAnswer
	res, err := d.svc.Register(r.Context(), RegisterRequest{Username: username, Email: email, Password1: password1,
		Password2: password2, DecodeErrors: &errs, WithoutToken: !tokenAnswer})
	if err != nil {
		return err
	}
	if res.User == nil || d.svc.cfg.EmailVerification == VerificationMandatory {
		// Mandatory verification, or a concealed refusal: the two must look the same.
		writeDetail(w, http.StatusCreated, "Verification e-mail sent.")
		return nil
	}
	// allauth's complete_signup logs the new user in.
	// The session is saved before the answer: when the store refuses it, the account is
	// deleted again and the client told 503, so its retry with the same username succeeds
	// instead of finding the name taken by an account it was never told about.
	err = d.loginSession(w, r, res.User)
	if err == nil {
		err = d.saveSession(w, r)
	}
	if err != nil {
		d.undoRegister(r, res)
		d.sessionUnavailable(w, r, err)
		return nil
	}
	if !tokenAnswer {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	noStore(w)
	drf.WriteJSON(w, http.StatusCreated, struct {
		Key string `json:"key"`
	}{res.Token.Key})
	return nil
}

// undoRegister deletes the account a registration created (its address, and its token
// when one was issued) when the answer cannot be given (its session was not saved). The
// audit log keeps the account's token issue, if any, and its deletion. A confirmation
// mail already queued still goes out; its link finds no account. A deletion that fails
// too is logged: the account (and any token) then stays, and a retry finds the username
// taken.
func (d *api291) undoRegister(r *http.Request, res *RegisterResult) {
	ctx, cancel := undoContext(r)
	defer cancel()
	if err := d.svc.DeleteUser(ctx, res.User.ID); err != nil {
		d.svc.cfg.Logger.ErrorContext(ctx, "restauth: a registration could not be undone after its session failed",
			"user_id", res.User.ID, "error", err)
	}
}
