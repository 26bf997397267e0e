package restauth

import (
	"net/http"
	"strconv"
	"time"

	"github.com/restauth/restauth/internal/drf"
	"github.com/restauth/restauth/internal/jsonenc"
)

// userDetailsJSON is dj-rest-auth's UserDetailsSerializer output.
type userDetailsJSON struct {
	PK        int64  `json:"pk"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

func userDetails(u *User) userDetailsJSON {
	return userDetailsJSON{PK: u.ID, Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName}
}

// appendUserDetails encodes userDetails(u) by hand: GET user/ is the hot path of every API
// client, and encoding/json's reflection costs allocations there. The output is what
// json.Marshal(userDetails(u)) produces (a test holds them equal).
func appendUserDetails(b []byte, u *User) []byte {
	b = append(b, `{"pk":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"username":`...)
	b = jsonenc.AppendString(b, u.Username)
	b = append(b, `,"email":`...)
	b = jsonenc.AppendString(b, u.Email)
	b = append(b, `,"first_name":`...)
	b = jsonenc.AppendString(b, u.FirstName)
	b = append(b, `,"last_name":`...)
	b = jsonenc.AppendString(b, u.LastName)
	return append(b, '}')
}

// meJSON is InvenTree's MeUserSerializer output.
type meJSON struct {
	PK          int64    `json:"pk"`
	Username    string   `json:"username"`
	FirstName   string   `json:"first_name"`
	LastName    string   `json:"last_name"`
	Email       string   `json:"email"`
	Groups      []string `json:"groups"`
	IsStaff     bool     `json:"is_staff"`
	IsSuperuser bool     `json:"is_superuser"`
	IsActive    bool     `json:"is_active"`
}

// editProfile serves a PUT or PATCH of the caller's profile: it reads the writable fields
// (username only when withUsername; PUT requires it, PATCH does not) and hands their
// decode errors to UpdateProfile, which reports them with its own.
func (d *api291) editProfile(w http.ResponseWriter, r *http.Request, withUsername bool) (*User, error) {
	f, err := d.decode(w, r)
	if err != nil {
		return nil, err
	}
	upd := ProfileUpdate{DecodeErrors: &ValidationError{}}
	if withUsername {
		spec := usernameField
		spec.Required = r.Method == http.MethodPut
		if v, ok := f.Char(upd.DecodeErrors.drfFields(), spec); ok {
			upd.Username = &v
		}
	}
	if v, ok := f.Char(upd.DecodeErrors.drfFields(), firstNameField); ok {
		upd.FirstName = &v
	}
	if v, ok := f.Char(upd.DecodeErrors.drfFields(), lastNameField); ok {
		upd.LastName = &v
	}
	return d.svc.UpdateProfile(r.Context(), caller(r).ID, upd)
}

// handleUserDetails serves dj-rest-auth's UserDetailsView (/api/auth/user/).
func (d *api291) handleUserDetails(w http.ResponseWriter, r *http.Request) error {
	u := caller(r)
	if r.Method == http.MethodPut || r.Method == http.MethodPatch {
		var err error
		if u, err = d.editProfile(w, r, true); err != nil {
			return err
		}
	}
	drf.WriteRaw(w, http.StatusOK, appendUserDetails(make([]byte, 0, 128), u))
	return nil
}

// handleMe serves /api/user/me/; username and e-mail are read-only there.
func (d *api291) handleMe(w http.ResponseWriter, r *http.Request) error {
	u := caller(r)
	if r.Method == http.MethodPut || r.Method == http.MethodPatch {
		var err error
		if u, err = d.editProfile(w, r, false); err != nil {
			return err
		}
	}
	drf.WriteJSON(w, http.StatusOK, meJSON{
		PK: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		Groups: []string{}, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, IsActive: u.IsActive,
	})
	return nil
}

// handlePasswordChange serves dj-rest-auth's PasswordChangeView. The change ends the
// sessions opened with the old password; the caller's own session is kept (Django's
// update_session_auth_hash) when the session store takes its new hash.
//
// The session is saved before answering because the password is committed by then: a
// 503 would tell the client the change failed when it did not, and its retry with the old
// password would be refused. So a failed save still answers 200 "New password has been
// saved.", with the session ended instead (sessionEndedAfterChange): the store still holds
// the old password's hash for it, which no longer matches, so it cannot authenticate again.
func (d *api291) handlePasswordChange(w http.ResponseWriter, r *http.Request) error {
	v, err := d.fields(w, r,
		charField{Name: "old_password", Required: !d.svc.cfg.AllowPasswordChangeWithoutOld, MaxLen: maxPasswordLength},
		charField{Name: "new_password1", Required: true, MaxLen: maxPasswordLength},
		charField{Name: "new_password2", Required: true, MaxLen: maxPasswordLength},
	)
	if err != nil {
		return err
	}
	u, err := d.svc.ChangePassword(r.Context(), caller(r), PasswordChange{Old: v["old_password"], New1: v["new_password1"], New2: v["new_password2"], Session: SessionKept})
	if err != nil {
		return err
	}
	if err := d.saveSession(w, r); err != nil {
		d.sessionEndedAfterChange(w, r, u, err)
	}
	writeDetail(w, http.StatusOK, "New password has been saved.")
	return nil
}

// sessionEndedAfterChange handles a session whose new auth hash the store refused after a
// password change: the browser is told to drop the cookie (it would be refused at its next
// request anyway, its stored hash being the old password's) and the failure is logged, as
// the user has to log in again with the new password.
func (d *api291) sessionEndedAfterChange(w http.ResponseWriter, r *http.Request, u *User, err error) {
	ctx := r.Context()
	d.svc.sessions.WriteSessionCookie(ctx, w, "", time.Time{})
	d.svc.cfg.Logger.ErrorContext(ctx, "restauth: session store failed after a password change; the password is changed and the session ended",
		"method", r.Method, "path", logPath(r), "user_id", u.ID, "error", sessionErrorMessage(r, err))
}
