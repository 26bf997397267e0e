package restauth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/restauth/restauth/internal/validate"
)

// ProfileUpdate changes the non-nil fields of a user's profile.
type ProfileUpdate struct {
	Username  *string
	FirstName *string
	LastName  *string
}

// The profile fields as dj-rest-auth's UserDetailsSerializer (a ModelSerializer over
// Django's User) declares them.
var (
	usernameField = charField{name: "username", maxLen: maxUsernameLength,
		validators: []func(string) string{usernameValidator}}
	firstNameField = charField{name: "first_name", allowBlank: true, maxLen: maxNameLength}
	lastNameField  = charField{name: "last_name", allowBlank: true, maxLen: maxNameLength}
)

// UpdateProfile changes a user's username and names. Every field given is checked and all
// problems are reported together, as DRF does. The user's own current username is
// accepted (the reference refuses it, dj-rest-auth #187); the username is NFKC-normalised
// before its checks (Django's normalize_username) and uniqueness is case-insensitive
// against other users, so a look-alike of another user's name is refused.
func (s *Service) UpdateProfile(ctx context.Context, userID int64, upd ProfileUpdate) (*User, error) {
	if upd.Username != nil {
		n := validate.NormalizeUsername(*upd.Username)
		upd.Username = &n
	}
	var errs ValidationError
	for _, f := range []struct {
		spec  charField
		value *string
	}{{usernameField, upd.Username}, {firstNameField, upd.FirstName}, {lastNameField, upd.LastName}} {
		if f.value != nil {
			f.spec.check(&errs, *f.value)
		}
	}
	return s.updateProfile(ctx, userID, upd, &errs)
}

// updateProfile stores upd unless the fields' own checks failed (their errors are in
// fieldErrs) or the username is taken; all errors are reported together. Uniqueness is
// checked only for a username that passed its other checks: one that did not cannot be
// held by anybody.
func (s *Service) updateProfile(ctx context.Context, userID int64, upd ProfileUpdate, fieldErrs *ValidationError) (*User, error) {
	if upd.Username != nil && fieldErrs.Fields["username"] == nil {
		// Callers may have checked the name as typed; its NFKC form is what is stored, and
		// it can differ in length and characters ("½" holds a fraction slash).
		if n := validate.NormalizeUsername(*upd.Username); n != *upd.Username {
			usernameField.check(fieldErrs, n)
			upd.Username = &n
		}
	}
	if upd.Username != nil && fieldErrs.Fields["username"] == nil {
		taken, err := s.usernameTaken(ctx, *upd.Username, userID)
		if err != nil {
			return nil, err
		}
		if taken {
			fieldErrs.addCause(ErrUsernameTaken, "username", msgUsernameTaken)
		}
	}
	if err := fieldErrs.orNil(); err != nil {
		return nil, err
	}
	u, err := s.store.UpdateUser(ctx, userID, UserUpdate{Username: upd.Username, FirstName: upd.FirstName, LastName: upd.LastName})
	if errors.Is(err, ErrConflict) {
		return nil, causedFieldError(ErrUsernameTaken, "username", msgUsernameTaken)
	}
	return u, err
}

// PasswordChange is a password change by its owner. Old is checked unless
// Config.AllowPasswordChangeWithoutOld is set.
type PasswordChange struct {
	Old  string
	New1 string
	New2 string
}

// ChangePassword sets a new password after checking the old one, the confirmation and the
// validators. Sessions opened with the old password stop working; API tokens stay valid.
// Attempts count towards RateLimits.PasswordChangePerUser before the old password is
// hashed, so a stolen session does not buy unlimited guesses; a change emits
// AuditPasswordChanged and mails the MailPasswordChanged notice.
func (s *Service) ChangePassword(ctx context.Context, u *User, pc PasswordChange) (*User, error) {
	if err := s.throttle(ctx, s.cfg.RateLimits.PasswordChangePerUser, userKey(u.ID)); err != nil {
		return nil, err
	}
	if !s.cfg.AllowPasswordChangeWithoutOld {
		ok, _, err := s.passwordMatches(ctx, u, pc.Old)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fieldError("old_password", msgOldPasswordWrong)
		}
	}
	updated, err := s.setPassword(ctx, u, pc.New1, pc.New2)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, AuditPasswordChanged, updated, "")
	s.notify(ctx, MailPasswordChanged, updated, MailData{})
	return updated, nil
}

// setPassword runs Django's SetPasswordForm checks (errors on new_password2) and stores
// the new hash.
func (s *Service) setPassword(ctx context.Context, u *User, new1, new2 string) (*User, error) {
	if new1 != new2 {
		return nil, fieldError("new_password2", msgPasswordMismatchForm)
	}
	attrs := passwordAttributes{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}
	if msgs := s.validator.Validate(new1, attrs); len(msgs) > 0 {
		return nil, fieldError("new_password2", msgs...)
	}
	encoded, err := s.hasher.Hash(ctx, new1)
	if err != nil {
		return nil, err
	}
	return s.store.UpdateUser(ctx, u.ID, UserUpdate{PasswordHash: &encoded})
}

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

// editProfile serves a PUT or PATCH of the caller's profile: it reads the writable fields
// (username only when withUsername) and updates them, reporting all fields' errors
// together.
func (s *Service) editProfile(w http.ResponseWriter, r *http.Request, u *User, withUsername bool) (*User, error) {
	f, err := s.decodeBody(w, r)
	if err != nil {
		return nil, err
	}
	var errs ValidationError
	var upd ProfileUpdate
	if withUsername {
		spec := usernameField
		spec.required = r.Method == http.MethodPut
		if v, ok := f.char(&errs, spec); ok {
			upd.Username = &v
		}
	}
	if v, ok := f.char(&errs, firstNameField); ok {
		upd.FirstName = &v
	}
	if v, ok := f.char(&errs, lastNameField); ok {
		upd.LastName = &v
	}
	return s.updateProfile(r.Context(), u.ID, upd, &errs)
}

func (s *Service) handleUserDetails(w http.ResponseWriter, r *http.Request) error {
	c := callOf(r)
	u := c.auth.user
	if r.Method == http.MethodPut || r.Method == http.MethodPatch {
		var err error
		u, err = s.editProfile(w, r, u, true)
		if err != nil {
			return err
		}
	}
	writeRawJSON(w, http.StatusOK, appendUserDetails(make([]byte, 0, 128), u))
	return nil
}

// appendUserDetails encodes userDetails(u) by hand: GET user/ is the hot path of every API
// client, and encoding/json's reflection costs allocations there. The output is what
// json.Marshal(userDetails(u)) produces (a test holds them equal).
func appendUserDetails(b []byte, u *User) []byte {
	b = append(b, `{"pk":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, u.Username)
	b = append(b, `,"email":`...)
	b = appendJSONString(b, u.Email)
	b = append(b, `,"first_name":`...)
	b = appendJSONString(b, u.FirstName)
	b = append(b, `,"last_name":`...)
	b = appendJSONString(b, u.LastName)
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

// handleMe serves /api/user/me/; username and e-mail are read-only there.
func (s *Service) handleMe(w http.ResponseWriter, r *http.Request) error {
	c := callOf(r)
	u := c.auth.user
	if r.Method == http.MethodPut || r.Method == http.MethodPatch {
		var err error
		u, err = s.editProfile(w, r, u, false)
		if err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, meJSON{
		PK: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		Groups: []string{}, IsStaff: u.IsStaff, IsSuperuser: u.IsSuperuser, IsActive: u.IsActive,
	})
	return nil
}

func (s *Service) handlePasswordChange(w http.ResponseWriter, r *http.Request) error {
	c := callOf(r)
	f, err := s.decodeBody(w, r)
	if err != nil {
		return err
	}
	var errs ValidationError
	old, _ := f.char(&errs, charField{name: "old_password", required: !s.cfg.AllowPasswordChangeWithoutOld, maxLen: maxPasswordLength})
	new1, _ := f.char(&errs, charField{name: "new_password1", required: true, maxLen: maxPasswordLength})
	new2, _ := f.char(&errs, charField{name: "new_password2", required: true, maxLen: maxPasswordLength})
	if err := errs.orNil(); err != nil {
		return err
	}
	u, err := s.ChangePassword(r.Context(), c.auth.user, PasswordChange{Old: old, New1: new1, New2: new2})
	if err != nil {
		return err
	}
	s.refreshSessionHash(r.Context(), u)
	writeDetail(w, http.StatusOK, "New password has been saved.")
	return nil
}

// equalFoldEmail compares addresses case-insensitively, as the stores do. Unicode folding
// makes some look-alikes equal ("ſ" and "s", the Kelvin sign and "k"); that is safe only
// because mail always goes to the address as stored, never as typed (Django's fix for
// CVE-2019-19844).
func equalFoldEmail(a, b string) bool { return strings.EqualFold(a, b) }
