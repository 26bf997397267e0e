package restauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/otptest"
)

// codeUser registers alice (primary alice@example.com, unverified) and adds the
// unverified, non-primary address second@example.com.
func codeUser(t *testing.T, e *testEnv) *restauth.User {
	t.Helper()
	u, _ := e.register("alice", goodPassword, "alice@example.com")
	_, err := e.svc.AddEmailAddress(context.Background(), u.ID, "second@example.com")
	require.NoError(t, err)
	return u
}

// addressNamed returns the user's address email.
func addressNamed(t *testing.T, e *testEnv, userID int64, email string) restauth.EmailAddress {
	t.Helper()
	for _, a := range e.addresses(t, userID) {
		if a.Email == email {
			return a
		}
	}
	t.Fatalf("user %d has no address %s", userID, email)
	return restauth.EmailAddress{}
}

// TestLoginByCodeByAnyAddress: as allauth's RequestLoginCodeForm (filter_users_by_email,
// any address of the account, verified or not), a code asked for a secondary address goes
// to that address, logs its user in, and verifies that address (allauth's
// verify_email_indirectly) without making it primary while the user has one. Under
// mandatory verification the proved address lets the login through although the primary
// is still unverified (allauth's has_verified_email(user, login.email)).
func TestLoginByCodeByAnyAddress(t *testing.T) {
	t.Parallel()
	for _, verification := range []restauth.EmailVerification{restauth.VerificationOptional, restauth.VerificationMandatory} {
		t.Run(string(verification), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withCodes, func(c *restauth.Config) { c.EmailVerification = verification })
			ctx := context.Background()
			u := codeUser(t, e)
			before := len(e.mailer.Messages())

			p, err := e.svc.RequestLoginCode(ctx, "Second@Example.com")
			require.NoError(t, err)
			require.Len(t, e.mailer.Messages(), before+1, "one mail: the code")
			code := e.mailedCode(t, "second@example.com")

			res, err := e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: code})
			require.NoError(t, err)
			assert.Equal(t, u.ID, res.User.ID)
			assert.Nil(t, res.Pending)
			second := addressNamed(t, e, u.ID, "second@example.com")
			assert.True(t, second.Verified, "the code proved the address")
			assert.False(t, second.Primary, "the user has a primary address")
			primary := addressNamed(t, e, u.ID, "alice@example.com")
			assert.True(t, primary.Primary)
			assert.False(t, primary.Verified, "only the address the code went to is proved")
		})
	}
}

// TestLoginByCodePrefersTheVerifiedHolder: an address two accounts hold goes to the one
// holding it verified (prefer_verified), even when another holds it as its primary.
func TestLoginByCodePrefersTheVerifiedHolder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	alice, _ := e.register("alice", goodPassword, "shared@example.com")
	bob, _ := e.register("bob", goodPassword, "bob@example.com")
	a, err := e.svc.AddEmailAddress(ctx, bob.ID, "shared@example.com")
	require.NoError(t, err)
	e.verify(t, a.ID)

	p, err := e.svc.RequestLoginCode(ctx, "shared@example.com")
	require.NoError(t, err)
	res, err := e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: e.mailedCode(t, "shared@example.com")})
	require.NoError(t, err)
	assert.Equal(t, bob.ID, res.User.ID, "bob holds it verified")
	assert.False(t, addressNamed(t, e, alice.ID, "shared@example.com").Verified, "alice's copy is not proved")
}

// TestLoginByCodeMandatoryThroughTheSecondFactor: the proved secondary address carries
// through the second factor (PendingLogin.Email), and only for a code's pending login.
func TestLoginByCodeMandatoryThroughTheSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes, withMFA, func(c *restauth.Config) { c.EmailVerification = restauth.VerificationMandatory })
	ctx := context.Background()
	u := codeUser(t, e)
	st, err := e.svc.TOTPStatus(ctx, u)
	require.NoError(t, err)
	app, err := otptest.Scan(st.URL)
	require.NoError(t, err)
	_, err = e.svc.ActivateTOTP(ctx, u, app.Code(e.clock.Now()))
	require.NoError(t, err)
	e.clock.Advance(30 * time.Second)

	p, err := e.svc.RequestLoginCode(ctx, "second@example.com")
	require.NoError(t, err)
	res, err := e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: e.mailedCode(t, "second@example.com")})
	require.NoError(t, err)
	require.NotNil(t, res.Pending, "the second factor is still due")
	assert.Equal(t, "code", res.Pending.FirstFactor)
	assert.Equal(t, "second@example.com", res.Pending.Email)

	notCode := *res.Pending
	notCode.FirstFactor = ""
	_, err = e.svc.CompleteLogin(ctx, notCode, app.Code(e.clock.Now()))
	require.ErrorIs(t, err, restauth.ErrEmailNotVerified, "Email counts only for a code's pending login")

	e.clock.Advance(30 * time.Second)
	done, err := e.svc.CompleteLogin(ctx, *res.Pending, app.Code(e.clock.Now()))
	require.NoError(t, err)
	assert.Equal(t, u.ID, done.User.ID)
}
