package restauth

import "net/http"

// handleRegister serves dj-rest-auth's RegisterView.
func (d *api291) handleRegister(w http.ResponseWriter, r *http.Request) error {
	f, err := d.decode(w, r)
	if err != nil {
		return err
	}
	// The fields' errors are not answered here: Register still runs the checks of the
	// fields that passed and reports everything together, as DRF does.
	var errs ValidationError
	username, _ := f.char(&errs, charField{name: "username", required: true, maxLen: maxUsernameLength})
	email, _ := f.char(&errs, charField{name: "email", email: true})
	password1, _ := f.char(&errs, charField{name: "password1", required: true})
	password2, _ := f.char(&errs, charField{name: "password2", required: true})
	res, err := d.svc.Register(r.Context(), RegisterRequest{Username: username, Email: email, Password1: password1, Password2: password2, DecodeErrors: &errs})
	if err != nil {
		return err
	}
	if res.Token == nil {
		// Mandatory verification, or a concealed refusal: the two must look the same.
		writeDetail(w, http.StatusCreated, "Verification e-mail sent.")
		return nil
	}
	// allauth's complete_signup logs the new user in.
	if err := d.loginSession(w, r, res.User); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Key string `json:"key"`
	}{res.Token.Key})
	return nil
}
