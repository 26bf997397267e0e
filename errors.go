package restauth

import (
	"errors"
	"sort"
	"strings"
)

// nonFieldErrors is DRF's key for errors that belong to no single field.
const nonFieldErrors = "non_field_errors"

// ValidationError holds DRF-style field errors: field name → messages. Errors that
// concern no single field are under "non_field_errors". The handler answers it with 400.
type ValidationError struct {
	Fields map[string][]string
	cause  error
}

// Error lists the fields and their messages, sorted by field.
func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("restauth: invalid input:")
	for _, k := range keys {
		b.WriteString(" " + k + ": " + strings.Join(e.Fields[k], " "))
	}
	return b.String()
}

// Unwrap exposes the sentinel a ValidationError stands for, such as ErrInvalidCredentials.
func (e *ValidationError) Unwrap() error { return e.cause }

// add appends a message to a field, creating the map on first use.
func (e *ValidationError) add(field string, msgs ...string) {
	if e.Fields == nil {
		e.Fields = make(map[string][]string)
	}
	e.Fields[field] = append(e.Fields[field], msgs...)
}

// orNil returns e when it holds an error, else nil, so callers can collect errors and
// return them in one place.
func (e *ValidationError) orNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func fieldError(field string, msgs ...string) *ValidationError {
	e := &ValidationError{}
	e.add(field, msgs...)
	return e
}

// AuthError is a failed authentication: a credential was presented and is wrong. The
// handler answers 401 with {"detail": Detail} and a WWW-Authenticate challenge.
type AuthError struct {
	Detail string
	// Challenge is the WWW-Authenticate value: "Token" or `Basic realm="api"`.
	Challenge string
}

func (e *AuthError) Error() string { return "restauth: authentication failed: " + e.Detail }

// PermissionError is answered with 403 {"detail": Detail}.
type PermissionError struct {
	Detail string
	cause  error
}

func (e *PermissionError) Error() string { return "restauth: permission denied: " + e.Detail }

// Unwrap exposes the sentinel the error stands for, such as ErrMFARequired.
func (e *PermissionError) Unwrap() error { return e.cause }

// ThrottledError is answered with 429 and Retry-After.
type ThrottledError struct{ RetryAfterSeconds int }

func (e *ThrottledError) Error() string { return "restauth: throttled" }

var (
	// ErrInvalidCredentials is matched (errors.Is) by the *ValidationError a failed login returns.
	ErrInvalidCredentials = errors.New("restauth: invalid credentials")
	// ErrMFARequired is matched by the *PermissionError a login returns for a user who must
	// complete a second factor.
	ErrMFARequired = errors.New("restauth: MFA required")
	// ErrRegistrationClosed is matched by the *ValidationError Register returns when
	// registration is disabled.
	ErrRegistrationClosed = errors.New("restauth: registration is disabled")
)

// Messages the reference sends, word for word.
const (
	msgRequired           = "This field is required."
	msgBlank              = "This field may not be blank."
	msgNull               = "This field may not be null."
	msgNotString          = "Not a valid string."
	msgInvalidEmail       = "Enter a valid email address."
	msgInvalidCredentials = "Unable to log in with provided credentials."
	msgMustInclude        = `Must include "username" and "password".`
	msgUsernameTaken      = "A user with that username already exists."
	msgInvalidUsername    = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
	msgEmailTaken         = "A user is already registered with this e-mail address."
	msgPasswordMismatch   = "The two password fields didn't match."
	// Django's SetPasswordForm uses a typographic apostrophe (U+2019), unlike registration.
	msgPasswordMismatchForm = "The two password fields didn\u2019t match."
	msgOldPasswordWrong     = "Your old password was entered incorrectly. Please enter it again."
	msgRegistrationDisabled = "Registration is disabled."
	msgEmailNotVerified     = "E-mail is not verified."
	msgMFARequired          = "MFA required for this user"
	msgNotAuthenticated     = "Authentication credentials were not provided."
	msgNotFound             = "Not found."
)
