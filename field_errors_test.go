package restauth_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// Messages of the field-error tests, word for word as DRF and Django send them.
const (
	msgBlankField     = "This field may not be blank."
	msgRequiredField  = "This field is required."
	msgBadUsername    = "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
	msgTakenUsername  = "A user with that username already exists."
	msgBadEmail       = "Enter a valid email address."
	msgNullCharacters = "Null characters are not allowed."
	msgMax150         = "Ensure this field has no more than 150 characters."
)

// password123Errors is what Django's validators, run without the user, say of "123".
var password123Errors = []any{
	"This password is too short. It must contain at least 8 characters.",
	"This password is too common.",
	"This password is entirely numeric.",
}

// TestRegistrationFieldErrorsTogether: as in DRF, every field of a registration is checked
// — its own rules, then (when those pass) dj-rest-auth's validate_<field> — and all
// fields' errors come back in one answer; the checks across fields (the passwords' match,
// their similarity to the username) run only when every field is valid.
func TestRegistrationFieldErrorsTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("bob", goodPassword, "")

	tests := []struct {
		name string
		body map[string]any
		want map[string]any
	}{
		{"blank username, weak password",
			map[string]any{"username": "", "password1": "123", "password2": "123"},
			map[string]any{"username": []any{msgBlankField}, "password1": password123Errors}},
		{"weak password, missing confirmation",
			map[string]any{"username": "new", "password1": "123"},
			map[string]any{"password1": password123Errors, "password2": []any{msgRequiredField}}},
		{"invalid email, weak password",
			map[string]any{"username": "new", "email": "x", "password1": "123", "password2": "123"},
			map[string]any{"email": []any{msgBadEmail}, "password1": password123Errors}},
		{"every field wrong",
			map[string]any{"username": "bad name!", "email": "", "password1": "123"},
			map[string]any{"username": []any{msgBadUsername}, "email": []any{msgBlankField},
				"password1": password123Errors, "password2": []any{msgRequiredField}}},
		{"taken username and invalid email hide the mismatch",
			map[string]any{"username": "BOB", "email": "x@", "password1": goodPassword, "password2": goodPassword + "x"},
			map[string]any{"username": []any{msgTakenUsername}, "email": []any{msgBadEmail}}},
		{"weak password hides the mismatch",
			map[string]any{"username": "new", "password1": "123", "password2": "456"},
			map[string]any{"password1": password123Errors}},
		{"blank username hides the similarity check",
			map[string]any{"username": " ", "password1": "sebastian99!", "password2": "sebastian99!"},
			map[string]any{"username": []any{msgBlankField}}},
		// The serializer's username field checks only length, blank and null characters;
		// the pattern is allauth's clean_username (validate_username), which runs only
		// when the field passed.
		{"long invalid username gets only the field's length message",
			map[string]any{"username": strings.Repeat("a", 150) + "!", "password1": "123", "password2": "123"},
			map[string]any{"username": []any{msgMax150}, "password1": password123Errors}},
		{"null character in the username",
			map[string]any{"username": "a\x00b", "password1": goodPassword, "password2": goodPassword},
			map[string]any{"username": []any{msgNullCharacters}}},
		{"null character in the email is also an invalid address",
			map[string]any{"username": "new", "email": "a\x00b@example.com", "password1": goodPassword, "password2": goodPassword},
			map[string]any{"email": []any{msgNullCharacters, msgBadEmail}}},
		{"missing password1 skips nothing else",
			map[string]any{"username": "bad name!", "email": "x", "password2": "123"},
			map[string]any{"username": []any{msgBadUsername}, "email": []any{msgBadEmail}, "password1": []any{msgRequiredField}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(http.MethodPost, "/api/auth/registration/", tc.body, withHeader("Authorization", ""))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
	t.Run("nothing was created", func(t *testing.T) {
		_, err := e.store.UserByUsername(context.Background(), "new")
		assert.ErrorIs(t, err, restauth.ErrNotFound)
	})
}

// TestRegistrationFieldErrorsConcealTakenEmail: under enumeration prevention, errors
// collected across fields still never name an address held verified by another account;
// the answer is byte for byte the one a free address gets.
func TestRegistrationFieldErrorsConcealTakenEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
	_, err := e.svc.CreateUser(context.Background(), restauth.NewUser{Username: "owner", Email: "owner@example.com", Password: goodPassword, EmailVerified: true})
	require.NoError(t, err)

	for _, body := range []map[string]any{
		{"username": "", "password1": "123"},
		{"username": "new", "password1": goodPassword},
		{"username": "owner", "password1": "123", "password2": "123"},
	} {
		taken, free := map[string]any{"email": "Owner@Example.com"}, map[string]any{"email": "free@example.com"}
		for k, v := range body {
			taken[k], free[k] = v, v
		}
		takenRes := e.do(http.MethodPost, "/api/auth/registration/", taken)
		freeRes := e.do(http.MethodPost, "/api/auth/registration/", free)
		require.Equal(t, http.StatusBadRequest, freeRes.Code, freeRes.Body.String())
		assert.NotContains(t, freeRes.JSON(t), "email")
		assert.Equal(t, freeRes.Code, takenRes.Code)
		assert.Equal(t, freeRes.Body.String(), takenRes.Body.String(), "a taken address answers like a free one")
	}
	assert.Empty(t, e.mailer.Messages())
}

// TestUserDetailsFieldErrorsTogether: PUT/PATCH user/ reports every field's errors at
// once, and a field's validators all run: the username pattern and the length limit are
// both reported.
func TestUserDetailsFieldErrorsTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("bob", goodPassword, "")
	u, key := e.register("carol", goodPassword, "carol@example.com")
	long := strings.Repeat("x", 151)

	tests := []struct {
		name   string
		method string
		body   map[string]any
		want   map[string]any
	}{
		{"invalid username, long first name", http.MethodPatch,
			map[string]any{"username": "a b", "first_name": long},
			map[string]any{"username": []any{msgBadUsername}, "first_name": []any{msgMax150}}},
		{"taken username, long last name", http.MethodPatch,
			map[string]any{"username": "bob", "last_name": long},
			map[string]any{"username": []any{msgTakenUsername}, "last_name": []any{msgMax150}}},
		{"long invalid username", http.MethodPatch,
			map[string]any{"username": strings.Repeat("a", 150) + " b"},
			map[string]any{"username": []any{msgBadUsername, msgMax150}}},
		{"null character in the username", http.MethodPatch,
			map[string]any{"username": "a\x00b"},
			map[string]any{"username": []any{msgBadUsername, msgNullCharacters}}},
		{"every field wrong", http.MethodPatch,
			map[string]any{"username": "", "first_name": long, "last_name": "a\x00" + long},
			map[string]any{"username": []any{msgBlankField}, "first_name": []any{msgMax150},
				"last_name": []any{msgMax150, msgNullCharacters}}},
		{"put without username, long last name", http.MethodPut,
			map[string]any{"first_name": "Carol", "last_name": long},
			map[string]any{"username": []any{msgRequiredField}, "last_name": []any{msgMax150}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, "/api/auth/user/", tc.body, withToken(key))
			require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
			assert.Equal(t, tc.want, res.JSON(t))
		})
	}
	t.Run("nothing was changed", func(t *testing.T) {
		got, err := e.store.UserByID(context.Background(), u.ID)
		require.NoError(t, err)
		assert.Equal(t, "carol", got.Username)
		assert.Empty(t, got.FirstName)
		assert.Empty(t, got.LastName)
	})
}

// TestUpdateProfileFieldErrorsTogether: the Go API checks every field given, like the
// route, and reports all problems in one *ValidationError.
func TestUpdateProfileFieldErrorsTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("bob", goodPassword, "")
	u, _ := e.register("dora", goodPassword, "")
	name, long := "Bob", strings.Repeat("y", 151)

	_, err := e.svc.UpdateProfile(context.Background(), u.ID, restauth.ProfileUpdate{Username: &name, FirstName: &long, LastName: &long})
	var verr *restauth.ValidationError
	require.True(t, errors.As(err, &verr), "%v", err)
	assert.Equal(t, map[string][]string{
		"username":   {msgTakenUsername},
		"first_name": {msgMax150},
		"last_name":  {msgMax150},
	}, verr.Fields)
}

// TestEmailFieldValidatorsAllRun: an EmailField's validators all run, so an address with a
// null character gets both the null-character and the address message.
func TestEmailFieldValidatorsAllRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.do(http.MethodPost, "/api/auth/password/reset/", map[string]any{"email": "a\x00b@example.com"})
	require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"email": []any{msgNullCharacters, msgBadEmail}}, res.JSON(t))
}

func TestEmailAddressAddValidatorsAllRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("erin", goodPassword, "erin@example.com")
	res := e.do(http.MethodPost, "/api/auth/emails/", map[string]any{"email": strings.Repeat("a", 250) + "@@example.com"}, withToken(key))
	require.Equal(t, http.StatusBadRequest, res.Code, res.Body.String())
	assert.Equal(t, map[string]any{"email": []any{"Ensure this field has no more than 254 characters.", msgBadEmail}}, res.JSON(t))
}
