package restauth

import "github.com/restauth/restauth/internal/validate"

// Field limits of Django's user model and allauth's EmailAddress.
const (
	maxUsernameLength = 150
	maxNameLength     = 150
	maxEmailLength    = 254
	maxPasswordLength = 128
)

// usernameValidator is Django's UnicodeUsernameValidator as a field validator: it returns
// its message when s is not a valid username, else "".
func usernameValidator(s string) string {
	if validate.Username(s) {
		return ""
	}
	return msgInvalidUsername
}
