package restauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// TestSetPassword: a user without a usable password gets one without an old password; a
// user with one is refused, and the validators' refusals carry their codes.
func TestSetPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u, _ := e.register("alice", "correct horse battery", "alice@example.com")
	_, err := e.svc.SetPassword(ctx, u, restauth.PasswordChange{New1: "another good password", New2: "another good password"})
	require.ErrorIs(t, err, restauth.ErrPasswordAlreadySet)

	unusable := "!social-only"
	u, err = e.store.UpdateUser(ctx, u.ID, restauth.UserUpdate{PasswordHash: &unusable})
	require.NoError(t, err)
	_, err = e.svc.SetPassword(ctx, u, restauth.PasswordChange{New1: "123", New2: "123"})
	var verr *restauth.ValidationError
	require.True(t, errors.As(err, &verr), "%v", err)
	var codes []string
	for i := range verr.Fields["new_password2"] {
		codes = append(codes, verr.Code("new_password2", i))
	}
	assert.Equal(t, []string{"password_too_short", "password_too_common", "password_entirely_numeric"}, codes)

	u, err = e.svc.SetPassword(ctx, u, restauth.PasswordChange{New1: "another good password", New2: "another good password"})
	require.NoError(t, err)
	assert.True(t, u.HasUsablePassword())
	_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: "alice", Password: "another good password", WithoutToken: true})
	assert.NoError(t, err)
}

// TestValidationErrorCodes: the codes are set where the rule lives and read by Code; a
// message without one has "".
func TestValidationErrorCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.register("alice", "correct horse battery", "alice@example.com")
	_, err := e.svc.Register(ctx, restauth.RegisterRequest{Username: "alice", Email: "bob@example.com", Password1: "correct horse battery", Password2: "correct horse battery"})
	var verr *restauth.ValidationError
	require.True(t, errors.As(err, &verr), "%v", err)
	assert.Equal(t, "username_taken", verr.Code("username", 0))
	assert.Equal(t, "", verr.Code("username", 1))
	assert.Equal(t, "", verr.Code("nothing", 0))
}
