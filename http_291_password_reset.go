package restauth

import "net/http"

// This file serves dj-rest-auth's PasswordResetView and PasswordResetConfirmView; the
// operations (password_reset.go) own the link, the token and the limits.

// Messages of the password reset routes, word for word as the reference sends them.
const (
	msgResetSent = "Password reset e-mail has been sent."
	msgResetDone = "Password has been reset with the new password."
)

// handlePasswordReset mails the reset link. Its answer is the same whether or not a mail
// went out: RequestPasswordReset tells nothing about the address.
func (d *api291) handlePasswordReset(w http.ResponseWriter, r *http.Request) error {
	v, err := d.fields(w, r, charField{Name: "email", Required: true, Email: true})
	if err != nil {
		return err
	}
	if err := d.svc.RequestPasswordReset(r.Context(), v["email"]); err != nil {
		return err
	}
	writeDetail(w, http.StatusOK, msgResetSent)
	return nil
}

// handlePasswordResetConfirm sets the new password with the link's uid and token. The
// fields are read in the serializer's order, which is the order of their errors.
func (d *api291) handlePasswordResetConfirm(w http.ResponseWriter, r *http.Request) error {
	v, err := d.fields(w, r,
		charField{Name: "new_password1", Required: true, MaxLen: maxPasswordLength},
		charField{Name: "new_password2", Required: true, MaxLen: maxPasswordLength},
		charField{Name: "uid", Required: true},
		charField{Name: "token", Required: true},
	)
	if err != nil {
		return err
	}
	req := PasswordResetConfirm{UID: v["uid"], Token: v["token"], New1: v["new_password1"], New2: v["new_password2"]}
	if _, err := d.svc.ConfirmPasswordReset(r.Context(), req); err != nil {
		return err
	}
	writeDetail(w, http.StatusOK, msgResetDone)
	return nil
}
