package restauth

import (
	"context"
	"errors"
	"strings"

	"github.com/restauth/restauth/internal/validate"
)

// ProfileUpdate changes the non-nil fields of a user's profile.
type ProfileUpdate struct {
	Username  *string
	FirstName *string
	LastName  *string
	// DecodeErrors holds the field errors a dialect found while reading the request (a
	// missing or blank field, a wrong type), or nil. As DRF does, UpdateProfile reports
	// them together with its own and skips its checks of those fields.
	DecodeErrors *ValidationError
}

// The profile fields as dj-rest-auth's UserDetailsSerializer (a ModelSerializer over
// Django's User) declares them.
var (
	usernameField = charField{Name: "username", MaxLen: maxUsernameLength,
		Validators: []func(string) string{usernameValidator}}
	firstNameField = charField{Name: "first_name", AllowBlank: true, MaxLen: maxNameLength}
	lastNameField  = charField{Name: "last_name", AllowBlank: true, MaxLen: maxNameLength}
)

// UpdateProfile changes a user's username and names. Every field given is checked and all
// problems are reported together, as DRF does. The user's own current username is
// accepted (the reference refuses it, dj-rest-auth #187); the username is NFKC-normalised
// before its uniqueness check (Django's normalize_username) and uniqueness is
// case-insensitive against other users, so a look-alike of another user's name is refused.
// Uniqueness is checked only for a username that passed its other checks: one that did
// not cannot be held by anybody.
func (s *Service) UpdateProfile(ctx context.Context, userID int64, upd ProfileUpdate) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "UpdateProfile")
	defer opSpan.end(&opErr)
	errs := upd.DecodeErrors
	if errs == nil {
		errs = &ValidationError{}
	}
	for _, f := range []struct {
		spec  charField
		value *string
	}{{usernameField, upd.Username}, {firstNameField, upd.FirstName}, {lastNameField, upd.LastName}} {
		if f.value != nil && errs.Fields[f.spec.Name] == nil {
			f.spec.Check(errs.drfFields(), *f.value)
		}
	}
	if upd.Username != nil && errs.Fields["username"] == nil {
		// Callers may have checked the name as typed; its NFKC form is what is stored, and
		// it can differ in length and characters ("½" holds a fraction slash).
		if n := validate.NormalizeUsername(*upd.Username); n != *upd.Username {
			usernameField.Check(errs.drfFields(), n)
			upd.Username = &n
		}
	}
	if upd.Username != nil && errs.Fields["username"] == nil {
		taken, err := s.usernameTaken(ctx, *upd.Username, userID)
		if err != nil {
			return nil, err
		}
		if taken {
			errs.addCause(ErrUsernameTaken, "username", msgUsernameTaken)
		}
	}
	if err := errs.orNil(); err != nil {
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
	// Session is what the change does to the session in ctx, the dialect's choice (see
	// SessionAfterChange and DialectConfig).
	Session SessionAfterChange
}

// ChangePassword sets a new password after checking the old one, the confirmation and the
// validators. Sessions opened with the old password stop working, the one in ctx as
// pc.Session says; API tokens stay valid.
// Attempts count towards RateLimits.PasswordChangePerUser before the old password is
// hashed, so a stolen session does not buy unlimited guesses; a change emits
// AuditPasswordChanged and mails the MailPasswordChanged notice.
func (s *Service) ChangePassword(ctx context.Context, u *User, pc PasswordChange) (_ *User, opErr error) {
	ctx, opSpan := s.startOperation(ctx, "ChangePassword")
	defer opSpan.end(&opErr)
	if err := s.throttle(ctx, s.cfg.RateLimits.PasswordChangePerUser, userKey(u.ID)); err != nil {
		return nil, err
	}
	if !s.cfg.AllowPasswordChangeWithoutOld {
		ok, _, err := s.passwordMatches(ctx, u, pc.Old)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, codedFieldError(nil, "old_password", "enter_current_password", msgOldPasswordWrong)
		}
	}
	updated, err := s.setPassword(ctx, u, pc.New1, pc.New2)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, updated, AuditEvent{Kind: AuditPasswordChanged})
	s.notify(ctx, MailPasswordChanged, updated, MailData{})
	return updated, s.afterPasswordChange(ctx, updated, pc.Session)
}

// setPassword runs Django's SetPasswordForm checks (errors on new_password2) and stores
// the new hash.
func (s *Service) setPassword(ctx context.Context, u *User, new1, new2 string) (*User, error) {
	if err := s.validateNewPassword(ctx, u, new1, new2); err != nil {
		return nil, err
	}
	encoded, err := s.hasher.Hash(ctx, new1)
	if err != nil {
		return nil, err
	}
	return s.store.UpdateUser(ctx, u.ID, UserUpdate{PasswordHash: &encoded})
}

// validateNewPassword checks a new password of u and its confirmation (errors on
// new_password2), as setPassword does before storing it.
func (s *Service) validateNewPassword(_ context.Context, u *User, new1, new2 string) error {
	if new1 != new2 {
		return fieldError("new_password2", msgPasswordMismatchForm)
	}
	attrs := passwordAttributes{Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email}
	if errs := s.passwordProblems("new_password2", new1, attrs); errs != nil {
		return errs
	}
	return nil
}

// equalFoldEmail compares addresses case-insensitively, as the stores do. Unicode folding
// makes some look-alikes equal ("ſ" and "s", the Kelvin sign and "k"); that is safe only
// because mail always goes to the address as stored, never as typed (Django's fix for
// CVE-2019-19844).
func equalFoldEmail(a, b string) bool { return strings.EqualFold(a, b) }

// sameAddress reports whether a and b are one address: byte-equal after folding ASCII
// letters only (domains are case-insensitive, and people type local parts in any case).
// It is the test wherever an address stands for an account, as when a provider's address
// links to a local user: Unicode folding would equate different IDN domains.
func sameAddress(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
