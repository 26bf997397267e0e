package restauth_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

var mailedCodeRE = regexp.MustCompile(`\n\n([A-Z0-9]{6,8})\n\n`)

// mailedCode returns the code of the newest mail to addr.
func (e *testEnv) mailedCode(t *testing.T, addr string) string {
	t.Helper()
	m := mailedCodeRE.FindStringSubmatch(e.lastMailTo(t, addr).Text)
	require.NotNil(t, m, "no code in the mail")
	return m[1]
}

func withCodes(c *restauth.Config) {
	c.LoginByCode.Enabled = true
	c.PasswordResetByCode.Enabled = true
	c.EmailVerificationByCode.Enabled = true
}

// otherCode is a code that is not code.
func otherCode(code string) string {
	if code == "CCCCCC" {
		return "DDDDDD"
	}
	return "CCCCCC"
}

func TestCodeFlowsOffByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.RequestLoginCode(ctx, "a@example.com")
	assert.ErrorIs(t, err, restauth.ErrCodeFlowDisabled)
	_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{})
	assert.ErrorIs(t, err, restauth.ErrCodeFlowDisabled)
	_, err = e.svc.RequestPasswordResetCode(ctx, "a@example.com")
	assert.ErrorIs(t, err, restauth.ErrCodeFlowDisabled)
	_, err = e.svc.RequestEmailVerificationCode(ctx, 1, 1)
	assert.ErrorIs(t, err, restauth.ErrCodeFlowDisabled)
	_, err = e.svc.VerifyEmailCode(ctx, restauth.PendingCode{}, "x")
	assert.ErrorIs(t, err, restauth.ErrCodeFlowDisabled)
}

func TestLoginByCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	u, _ := e.register("alice", goodPassword, "alice@example.com")

	p, err := e.svc.RequestLoginCode(ctx, "ALICE@example.com")
	require.NoError(t, err)
	code := e.mailedCode(t, "alice@example.com")
	assert.Len(t, code, 6)
	assert.NotContains(t, p.MAC, code)

	_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: otherCode(code)})
	require.ErrorIs(t, err, restauth.ErrInvalidCode)
	res, err := e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: " " + code[:3] + "-" + code[3:]})
	require.NoError(t, err)
	assert.Equal(t, u.ID, res.User.ID)
	assert.Nil(t, res.Pending)
	assert.False(t, res.User.LastLogin.IsZero(), "the login is recorded")
	assert.True(t, e.addresses(t, u.ID)[0].Verified, "the code proved the address")

	_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: code})
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "a code logs in once")

	p, err = e.svc.RequestLoginCode(ctx, "alice@example.com")
	require.NoError(t, err)
	tampered := *p
	tampered.Email = "mallory@example.com"
	_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: tampered, Code: e.mailedCode(t, "alice@example.com")})
	require.ErrorIs(t, err, restauth.ErrInvalidCode, "the pending code is bound to its address")
}

func TestLoginByCodeAttemptsAndTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	e.register("alice", goodPassword, "alice@example.com")

	p, err := e.svc.RequestLoginCode(ctx, "alice@example.com")
	require.NoError(t, err)
	code := e.mailedCode(t, "alice@example.com")
	for range 3 {
		_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: otherCode(code)})
		require.ErrorIs(t, err, restauth.ErrInvalidCode)
	}
	_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: code})
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "after 3 attempts even the right code is refused")

	p, err = e.svc.ResendLoginCode(ctx, *p)
	require.NoError(t, err)
	code = e.mailedCode(t, "alice@example.com")
	e.clock.Advance(181 * time.Second)
	_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: code})
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "180 s")
	_, err = e.svc.ResendLoginCode(ctx, *p)
	require.ErrorIs(t, err, restauth.ErrCodeExpired)
}

func TestLoginByCodeUnknownAddressAnswersTheSame(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	p, err := e.svc.RequestLoginCode(ctx, "nobody@example.com")
	require.NoError(t, err)
	require.NotNil(t, p)
	assert.Empty(t, e.mailer.Messages(), "nobody to mail")
	_, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: "CDFGHJ"})
	require.ErrorIs(t, err, restauth.ErrInvalidCode)
	_, err = e.svc.RequestLoginCode(ctx, "not-an-address")
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Contains(t, verr.Fields, "email")
}

func TestLoginByCodeRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes, func(c *restauth.Config) { c.RateLimits = restauth.RateLimits{} })
	ctx := restauth.WithClient(context.Background(), restauth.Client{Addr: "192.0.2.7"})
	for range 3 {
		_, err := e.svc.RequestLoginCode(ctx, "x@example.com")
		require.NoError(t, err)
	}
	_, err := e.svc.RequestLoginCode(ctx, "X@example.com")
	var throttled *restauth.ThrottledError
	require.ErrorAs(t, err, &throttled)
	assert.Equal(t, restauth.RuleLoginCodeEmail, throttled.Rule)
}

func TestLoginByCodeKeepsTheSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes, withMFA, func(c *restauth.Config) { c.MFA.TrustEnabled = true })
	ctx := context.Background()
	_, app, _ := e.enrol(t, "alice")
	p, err := e.svc.RequestLoginCode(ctx, "alice@example.com")
	require.NoError(t, err)
	res, err := e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: e.mailedCode(t, "alice@example.com")})
	require.NoError(t, err)
	require.NotNil(t, res.Pending, "a code is a first factor only")
	done, err := e.svc.CompleteLogin(ctx, *res.Pending, app.Code(e.clock.Now()))
	require.NoError(t, err)

	trust, _, err := e.svc.IssueMFATrust(ctx, done.User)
	require.NoError(t, err)
	e.clock.Advance(time.Minute)
	p, err = e.svc.RequestLoginCode(ctx, "alice@example.com")
	require.NoError(t, err)
	res, err = e.svc.ConfirmLoginCode(ctx, restauth.LoginCodeConfirm{Pending: *p, Code: e.mailedCode(t, "alice@example.com"), MFATrust: trust})
	require.NoError(t, err)
	assert.Nil(t, res.Pending, "a trusted client skips the second factor")
}

func TestPasswordResetByCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	u, _ := e.register("alice", goodPassword, "alice@example.com")
	p, err := e.svc.RequestPasswordResetCode(ctx, "alice@example.com")
	require.NoError(t, err)
	code := e.mailedCode(t, "alice@example.com")
	assert.Len(t, code, 8)

	got, err := e.svc.CheckPasswordResetCode(ctx, *p, code)
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	_, err = e.svc.ResetPasswordWithCode(ctx, *p, code, "short", "short")
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Contains(t, verr.Fields, "new_password2")
	newPassword := goodPassword + "-new"
	_, err = e.svc.ResetPasswordWithCode(ctx, *p, code, newPassword, newPassword)
	require.NoError(t, err, "a refused password leaves the code usable")
	_, err = e.svc.Login(ctx, restauth.LoginRequest{Username: "alice", Password: newPassword})
	require.NoError(t, err)
	_, err = e.svc.ResetPasswordWithCode(ctx, *p, code, newPassword+"x", newPassword+"x")
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "the code is used up; its attempts too")
}

// Only wrong codes use up the attempts, as in allauth: after two typos of three, looking at
// the right code (GET auth/password/reset) and a refused new password still leave the
// reset its code.
func TestRightCodesSpendNoAttempt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	p, code := resetCodeAfterTypos(t, e, 2)
	for range 3 {
		_, err := e.svc.CheckPasswordResetCode(ctx, *p, code)
		require.NoError(t, err, "a right look is free")
	}
	_, err := e.svc.ResetPasswordWithCode(ctx, *p, code, "short", "short")
	var verr *restauth.ValidationError
	require.ErrorAs(t, err, &verr, "a refused password, the code still right")
	newPassword := goodPassword + "-new"
	_, err = e.svc.ResetPasswordWithCode(ctx, *p, code, newPassword, newPassword)
	require.NoError(t, err)
	_, err = e.svc.ResetPasswordWithCode(ctx, *p, code, newPassword+"x", newPassword+"x")
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "the code is used up")
}

// resetCodeAfterTypos registers alice, mails her a password-reset code and tries a wrong
// code typos times; it returns the pending code and the mailed one.
func resetCodeAfterTypos(t *testing.T, e *testEnv, typos int) (*restauth.PendingCode, string) {
	t.Helper()
	ctx := context.Background()
	e.register("alice", goodPassword, "alice@example.com")
	p, err := e.svc.RequestPasswordResetCode(ctx, "alice@example.com")
	require.NoError(t, err)
	code := e.mailedCode(t, "alice@example.com")
	for range typos {
		_, err = e.svc.CheckPasswordResetCode(ctx, *p, "WRONGCOD")
		require.ErrorIs(t, err, restauth.ErrInvalidCode)
	}
	return p, code
}

func TestPasswordResetByCodeAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	p, code := resetCodeAfterTypos(t, e, 3)
	_, err := e.svc.CheckPasswordResetCode(ctx, *p, code)
	require.ErrorIs(t, err, restauth.ErrCodeExpired)

	p, err = e.svc.RequestPasswordResetCode(ctx, "nobody@example.com")
	require.NoError(t, err, "unknown addresses answer the same")
	require.NotNil(t, p)
}

func TestEmailVerificationByCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	u, _ := e.register("alice", goodPassword, "alice@example.com")
	require.Len(t, e.mailer.Messages(), 1, "codes replace the link mail: Register mails one")
	assert.NotEmpty(t, e.mailedCode(t, "alice@example.com"))
	addr := e.addresses(t, u.ID)[0]

	e.clock.Advance(181 * time.Second) // past RateLimits.ResendPerEmail
	p, err := e.svc.RequestEmailVerificationCode(ctx, u.ID, addr.ID)
	require.NoError(t, err)
	code := e.mailedCode(t, "alice@example.com")
	_, err = e.svc.VerifyEmailCode(ctx, *p, otherCode(code))
	require.ErrorIs(t, err, restauth.ErrInvalidCode)
	verified, err := e.svc.VerifyEmailCode(ctx, *p, code)
	require.NoError(t, err)
	assert.True(t, verified.Verified)
	_, err = e.svc.VerifyEmailCode(ctx, *p, code)
	require.ErrorIs(t, err, restauth.ErrCodeExpired)
	_, err = e.svc.RequestEmailVerificationCode(ctx, u.ID, addr.ID)
	require.ErrorIs(t, err, restauth.ErrNotFound, "verified already")

	other, _ := e.register("bob", goodPassword, "bob@example.com")
	_, err = e.svc.RequestEmailVerificationCode(ctx, other.ID, addr.ID)
	require.ErrorIs(t, err, restauth.ErrNotFound, "another user's address")
}

func TestEmailVerificationCodeTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withCodes)
	ctx := context.Background()
	u, _ := e.register("alice", goodPassword, "alice@example.com")
	p, err := e.svc.RequestEmailVerificationCode(ctx, u.ID, e.addresses(t, u.ID)[0].ID)
	require.NoError(t, err)
	code := e.mailedCode(t, "alice@example.com")
	e.clock.Advance(901 * time.Second)
	_, err = e.svc.VerifyEmailCode(ctx, *p, code)
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "900 s")
}
