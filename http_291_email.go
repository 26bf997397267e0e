package restauth

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/restauth/restauth/internal/drf"
	"github.com/restauth/restauth/internal/form"
)

// This file serves the 291 e-mail routes: InvenTree's emails/ views over allauth's
// EmailAddress and dj-rest-auth's registration verify-email/ and resend-email/. The rules
// are the operations' (email.go); here are the DRF fields and shapes.

// msgEmailOtherUser refuses a "user" field naming another account; the reference would
// add the address to that account.
const msgEmailOtherUser = "You can only add e-mail addresses to your own account."

// emailAddressJSON is InvenTree's EmailAddressSerializer output; ID is null in the answer
// of remove/.
type emailAddressJSON struct {
	ID       *int64 `json:"id"`
	Email    string `json:"email"`
	Verified bool   `json:"verified"`
	Primary  bool   `json:"primary"`
	User     int64  `json:"user"`
}

func emailAddressOut(a *EmailAddress) emailAddressJSON {
	id := a.ID
	return emailAddressJSON{ID: &id, Email: a.Email, Verified: a.Verified, Primary: a.Primary, User: a.UserID}
}

// emails serves GET emails/ (the caller's addresses) and POST emails/ (addEmail).
func (d *api291) emails(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodPost {
		return d.addEmail(w, r)
	}
	addrs, err := d.svc.EmailAddresses(r.Context(), caller(r).ID)
	if err != nil {
		return err
	}
	out := make([]emailAddressJSON, len(addrs))
	for i := range addrs {
		out[i] = emailAddressOut(&addrs[i])
	}
	drf.WriteList(w, r, out)
	return nil
}

// addEmail serves POST emails/. verified and primary in the body are ignored (read-only);
// user may be omitted and otherwise must be the caller.
func (d *api291) addEmail(w http.ResponseWriter, r *http.Request) error {
	f, err := d.decode(w, r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	u := caller(r)
	var errs ValidationError
	// Tags are stripped before the field checks (InvenTree's CleanMixin cleans the data
	// before the serializer sees it), so "<b></b>" is blank. The address is checked here
	// too, although AddEmailAddress checks it again, so that its errors come together
	// with the user field's, as DRF collects them.
	email, present := f.Char(errs.drfFields(), charField{Name: "email", Required: true, AllowBlank: true})
	if present && errs.Fields["email"] == nil {
		cleanNewEmail(&errs, email)
	}
	if err := d.checkOwnUserField(r, f, u, &errs); err != nil {
		return err
	}
	if err := errs.orNil(); err != nil {
		return err
	}
	addr, err := d.svc.AddEmailAddress(ctx, u.ID, email)
	if err != nil {
		return err
	}
	drf.WriteJSON(w, http.StatusCreated, emailAddressOut(addr))
	return nil
}

// checkOwnUserField reads the optional "user" field of POST emails/ as DRF's
// PrimaryKeyRelatedField does (same messages for a wrong type, null and an unknown pk)
// and, unlike the reference, accepts only the caller's own pk.
func (d *api291) checkOwnUserField(r *http.Request, f *formData, u *User, errs *ValidationError) error {
	const field = "user"
	value, present, bad := f.Raw(field)
	if !present {
		return nil
	}
	kind := "str"
	if f.JSON != nil {
		raw := bytes.TrimSpace(f.JSON[field])
		kind = form.JSONKind(raw)
		if len(raw) > 0 && raw[0] == '{' {
			kind = "dict"
		}
	}
	switch {
	case bad == drf.RawNull || (bad == drf.RawOK && kind == "str" && value == ""):
		// DRF's RelatedField turns "" into None before the null check.
		errs.add(field, msgNull)
		return nil
	case bad != drf.RawOK || (kind != "str" && kind != "int"):
		errs.add(field, "Incorrect type. Expected pk value, received "+kind+".")
		return nil
	}
	pk, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil {
		errs.add(field, "Incorrect type. Expected pk value, received "+kind+".")
		return nil
	}
	if pk == u.ID {
		return nil
	}
	exists, err := d.svc.UserExists(r.Context(), pk)
	switch {
	case err != nil:
		return err
	case !exists:
		errs.add(field, `Invalid pk "`+value+`" - object does not exist.`)
	default:
		errs.add(field, msgEmailOtherUser)
	}
	return nil
}

// emailPrimary serves POST emails/{id}/primary/; the body is ignored.
func (d *api291) emailPrimary(w http.ResponseWriter, r *http.Request) error {
	addr, err := d.svc.SetPrimaryEmail(r.Context(), caller(r).ID, pathID(r))
	return answerEmailAction(w, addr, err, false)
}

// emailVerify serves POST emails/{id}/verify/; the body is ignored.
func (d *api291) emailVerify(w http.ResponseWriter, r *http.Request) error {
	addr, err := d.svc.RequestVerification(r.Context(), caller(r).ID, pathID(r))
	return answerEmailAction(w, addr, err, false)
}

// emailRemove serves POST emails/{id}/remove/; the body is ignored.
func (d *api291) emailRemove(w http.ResponseWriter, r *http.Request) error {
	addr, err := d.svc.RemoveEmailAddress(r.Context(), caller(r).ID, pathID(r))
	return answerEmailAction(w, addr, err, true)
}

// answerEmailAction answers an emails/{id}/ action with the address, or returns its error.
func answerEmailAction(w http.ResponseWriter, addr *EmailAddress, err error, removed bool) error {
	if err != nil {
		return err
	}
	out := emailAddressOut(addr)
	if removed {
		out.ID = nil // Django clears the pk of a deleted instance.
	}
	drf.WriteJSON(w, http.StatusOK, out)
	return nil
}

// verifyEmail serves POST registration/verify-email/.
func (d *api291) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	v, err := d.fields(w, r, charField{Name: "key", Required: true})
	if err != nil {
		return err
	}
	// A conflict (another user holds the address verified) answers "ok" and leaves the
	// address unverified, as the reference does.
	if _, err := d.svc.VerifyEmail(r.Context(), v["key"]); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	writeDetail(w, http.StatusOK, "ok")
	return nil
}

// resendEmail serves POST registration/resend-email/: "ok" whether or not the address
// matched anything.
func (d *api291) resendEmail(w http.ResponseWriter, r *http.Request) error {
	v, err := d.fields(w, r, charField{Name: "email", Email: true})
	if err != nil {
		return err
	}
	if err := d.svc.ResendVerification(r.Context(), v["email"]); err != nil {
		return err
	}
	writeDetail(w, http.StatusOK, "ok")
	return nil
}
