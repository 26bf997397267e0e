package restauth_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// The passkey signup tests: the address's code first, then the passkey.

// verifiedSignup runs the signup's code step for username and email.
func verifiedSignup(t *testing.T, e *testEnv, username, email string) restauth.VerifiedSignup {
	t.Helper()
	p, err := e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: username, Email: email})
	require.NoError(t, err)
	su, err := e.svc.VerifyPasskeySignupCode(t.Context(), *p, e.mailedCode(t, email))
	require.NoError(t, err)
	return *su
}

func TestPasskeySignupThenLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(true, nil))
	k := newSoftKey()
	options, state, err := e.svc.BeginPasskeySignup(t.Context(), verifiedSignup(t, e, "nova", "nova@example.com"))
	require.NoError(t, err)
	signup, err := e.svc.FinishPasskeySignup(t.Context(), state, "Laptop", k.Create(t, options))
	require.NoError(t, err)
	u := signup.User
	assert.Equal(t, "nova", u.Username)
	assert.Len(t, signup.RecoveryCodes, 10, "the passkey is the first authenticator")
	assert.Equal(t, "Laptop", signup.Credential.Name)
	assert.False(t, u.HasUsablePassword(), "a passkey account has no password")
	addrs, err := e.store.EmailAddresses(t.Context(), u.ID)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	assert.True(t, addrs[0].Verified && addrs[0].Primary)

	options, state, err = e.svc.BeginPasskeyLogin(t.Context())
	require.NoError(t, err)
	res, err := e.svc.FinishPasskeyLogin(t.Context(), state, k.Get(t, options))
	require.NoError(t, err)
	assert.Equal(t, u.ID, res.User.ID)

	// Its only passkey is its only way in.
	list, err := e.svc.ListWebAuthnCredentials(t.Context(), u.ID)
	require.NoError(t, err)
	require.ErrorIs(t, e.svc.RemoveWebAuthnCredentials(recentCtx(t, e, u), u, []int64{list[0].ID}), restauth.ErrLastLoginMethod)

	// The name is taken now.
	_, err = e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: "nova", Email: "other@example.com"})
	require.ErrorIs(t, err, restauth.ErrUsernameTaken)
}

func TestPasskeySignupCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withWebAuthn(true, nil))
	req := restauth.PasskeySignupRequest{Username: "nova", Email: "nova@example.com"}

	for name, tc := range map[string]struct {
		req   restauth.PasskeySignupRequest
		field string
	}{
		"no address":  {restauth.PasskeySignupRequest{Username: "nova"}, "email"},
		"bad address": {restauth.PasskeySignupRequest{Username: "nova", Email: "nova"}, "email"},
		"bad name":    {restauth.PasskeySignupRequest{Username: "no va!", Email: "nova@example.com"}, "username"},
	} {
		_, err := e.svc.RequestPasskeySignupCode(t.Context(), tc.req)
		var verr *restauth.ValidationError
		require.ErrorAs(t, err, &verr, name)
		assert.Contains(t, verr.Fields, tc.field, name)
	}

	p, err := e.svc.RequestPasskeySignupCode(t.Context(), req)
	require.NoError(t, err)
	code := e.mailedCode(t, "nova@example.com")
	assert.NotContains(t, p.MAC+p.Code.MAC+p.Code.Nonce, code, "the pending signup holds no code")

	// Neither half can be changed.
	moved := *p
	moved.Username = "admin"
	_, err = e.svc.VerifyPasskeySignupCode(t.Context(), moved, code)
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "another username")
	moved = *p
	moved.Code.Email = "other@example.com"
	_, err = e.svc.VerifyPasskeySignupCode(t.Context(), moved, code)
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "another address")

	// A resend replaces the pending signup with a new code.
	next, err := e.svc.ResendPasskeySignupCode(t.Context(), *p)
	require.NoError(t, err)
	assert.NotEqual(t, code, e.mailedCode(t, "nova@example.com"))
	_, err = e.svc.ResendPasskeySignupCode(t.Context(), moved)
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "an altered one")
	p = next
	code = e.mailedCode(t, "nova@example.com")

	_, err = e.svc.VerifyPasskeySignupCode(t.Context(), *p, otherCode(code))
	require.ErrorIs(t, err, restauth.ErrInvalidCode)
	su, err := e.svc.VerifyPasskeySignupCode(t.Context(), *p, strings.ToLower(code))
	require.NoError(t, err)
	assert.Equal(t, "nova", su.Username)
	assert.Equal(t, "nova@example.com", su.Email)
	_, err = e.svc.VerifyPasskeySignupCode(t.Context(), *p, code)
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "a code is used once")

	// Only the Service's VerifiedSignup begins a signup.
	forged := *su
	forged.Email = "victim@example.com"
	_, _, err = e.svc.BeginPasskeySignup(t.Context(), forged)
	require.ErrorIs(t, err, restauth.ErrCodeExpired)
	_, _, err = e.svc.BeginPasskeySignup(t.Context(), restauth.VerifiedSignup{Username: "nova", Email: "nova@example.com"})
	require.ErrorIs(t, err, restauth.ErrCodeExpired)
	_, _, err = e.svc.BeginPasskeySignup(t.Context(), *su)
	require.NoError(t, err)
	e.clock.Advance(16 * time.Minute)
	_, _, err = e.svc.BeginPasskeySignup(t.Context(), *su)
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "the verification expires")
}

func TestPasskeySignupConcealsTakenAddress(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		t.Run("AllowEnumeration="+strconv.FormatBool(allow), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withWebAuthn(true, nil), func(c *restauth.Config) { c.AllowEnumeration = allow })
			kim, _ := e.register("kim", goodPassword, "kim@example.com")
			verifyAll(t, e, kim)
			before := len(e.mailer.Messages())
			p, err := e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: "nova", Email: "kim@example.com"})
			if allow {
				require.ErrorIs(t, err, restauth.ErrEmailTaken)
				return
			}
			require.NoError(t, err, "answered as for a free address")
			require.NotNil(t, p)
			msgs := e.mailer.Messages()[before:]
			require.Len(t, msgs, 1)
			assert.Equal(t, []string{"kim@example.com"}, msgs[0].To)
			assert.False(t, mailedCodeRE.MatchString(msgs[0].Text), "the owner gets a notice, no code")
			e.clock.Advance(3*time.Minute + time.Second)
			p, err = e.svc.ResendPasskeySignupCode(t.Context(), *p)
			require.NoError(t, err, "a resend answers alike")
			assert.Len(t, e.mailer.Messages()[before:], 1, "and mails nothing")
			for _, code := range []string{"CCCCCC", "DDDDDD", "FFFFFF"} {
				_, err = e.svc.VerifyPasskeySignupCode(t.Context(), *p, code)
				require.Error(t, err)
			}
			_, err = e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: "kim", Email: "kim@example.com"})
			require.ErrorIs(t, err, restauth.ErrUsernameTaken, "other fields' errors are reported as for a free address")
		})
	}
}

// TestCheckPasskeySignupCode: the look before the verification (allauth's GET
// auth/email/verify) names the signup and leaves the code for VerifyPasskeySignupCode;
// wrong codes count towards the code's attempts (3), the look's as the verification's,
// and a right one gives its attempt back (allauth counts wrong codes only); an altered
// pending signup and a concealed refusal's are refused.
func TestCheckPasskeySignupCode(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		wrong     int
		lookErr   error // of the look with the right code after the wrong ones
		verifyErr error // of the verification after that
	}{
		"right at once":    {0, nil, nil},
		"after one wrong":  {1, nil, nil},
		"after two wrong":  {2, nil, nil},
		"attempts used up": {3, restauth.ErrCodeExpired, restauth.ErrCodeExpired},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withWebAuthn(true, nil))
			p, err := e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: "nova", Email: "nova@example.com"})
			require.NoError(t, err)
			code := e.mailedCode(t, "nova@example.com")
			for range tc.wrong {
				_, err = e.svc.CheckPasskeySignupCode(t.Context(), *p, otherCode(code))
				require.ErrorIs(t, err, restauth.ErrInvalidCode)
			}
			got, err := e.svc.CheckPasskeySignupCode(t.Context(), *p, code)
			if tc.lookErr != nil {
				require.ErrorIs(t, err, tc.lookErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, &restauth.PasskeySignupRequest{Username: "nova", Email: "nova@example.com"}, got)
			}
			su, err := e.svc.VerifyPasskeySignupCode(t.Context(), *p, code)
			if tc.verifyErr != nil {
				require.ErrorIs(t, err, tc.verifyErr, "the attempts are shared")
				return
			}
			require.NoError(t, err, "looking does not use the code up")
			assert.Equal(t, "nova@example.com", su.Email)
		})
	}

	e := newEnv(t, withWebAuthn(true, nil))
	p, err := e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: "nova", Email: "nova@example.com"})
	require.NoError(t, err)
	moved := *p
	moved.Username = "admin"
	_, err = e.svc.CheckPasskeySignupCode(t.Context(), moved, e.mailedCode(t, "nova@example.com"))
	require.ErrorIs(t, err, restauth.ErrCodeExpired, "another username")

	kim, _ := e.register("kim", goodPassword, "kim@example.com")
	verifyAll(t, e, kim)
	decoy, err := e.svc.RequestPasskeySignupCode(t.Context(), restauth.PasskeySignupRequest{Username: "eve", Email: "kim@example.com"})
	require.NoError(t, err)
	_, err = e.svc.CheckPasskeySignupCode(t.Context(), *decoy, "CCCCCC")
	require.ErrorIs(t, err, restauth.ErrInvalidCode, "a concealed refusal answers as a wrong code")
}
