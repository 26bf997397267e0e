package headless_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
	"github.com/restauth/restauth/internal/otptest"
)

// mailedCode is the code in the last mail (codes use allauth's alphabet, no vowels).
func (f *fixture) mailedCode(t *testing.T) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.mails)
	code := regexp.MustCompile(`\b[CDFGHJKLMNPQRSTVWXY345679]{6,8}\b`).FindString(f.mails[len(f.mails)-1].Text)
	require.NotEmpty(t, code, "no code in %q", f.mails[len(f.mails)-1].Text)
	return code
}

func (f *fixture) mailCount() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.mails) }

// registerAda makes ada with a verified address.
func registerAda(t *testing.T, f *fixture) *restauth.User {
	t.Helper()
	ctx := context.Background()
	reg, err := f.svc.Register(ctx, restauth.RegisterRequest{Username: "ada", Email: "ada@example.test", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
	require.NoError(t, err)
	addrs, err := f.svc.EmailAddresses(ctx, reg.User.ID)
	require.NoError(t, err)
	require.Len(t, addrs, 1)
	return reg.User
}

func codeConfig(c *restauth.Config) {
	c.LoginByCode.Enabled = true
	c.PasswordResetByCode.Enabled = true
	c.PasswordResetByCode.MaxAttempts = 4 // the test's wrong GET, right GET, weak and good POST
	c.EmailVerificationByCode.Enabled = true
	c.RateLimits.ResendPerEmail = restauth.RateRule{Name: restauth.RuleResendEmail, Limit: 5, Window: time.Hour}
}

func TestConfigReportsCodeFlags(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		f := newFixture(t, func(c *restauth.Config) {
			if on {
				codeConfig(c)
			}
		}, headless.Options{})
		r := f.appClient(t).do(http.MethodGet, "config", nil)
		require.Equal(t, 200, r.code)
		for _, flag := range []string{"login_by_code_enabled", "password_reset_by_code_enabled", "email_verification_by_code_enabled"} {
			assert.Contains(t, string(r.Data), `"`+flag+`":`+map[bool]string{true: "true", false: "false"}[on])
		}
	}
}

func TestLoginByCode(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		for _, wrong := range []int{0, 2, 3} {
			t.Run(tc.name+"/wrong="+string(rune('0'+wrong)), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, codeConfig, tc.opts)
				registerAda(t, f)
				c := tc.client(f, t)
				r := c.do(http.MethodGet, "auth/session", nil)
				assert.Contains(t, r.flows(t), "login_by_code")
				assert.Equal(t, 409, c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": "CDFGHJ"}).code, "nothing pending")

				assert.Equal(t, 400, c.do(http.MethodPost, "auth/code/request", map[string]string{"email": "not-an-address"}).code)
				r = c.do(http.MethodPost, "auth/code/request", map[string]string{"email": "ada@example.test"})
				require.Equal(t, 401, r.code)
				assert.Equal(t, true, r.flows(t)["login_by_code"]["is_pending"])
				require.Equal(t, 200, c.do(http.MethodPost, "auth/code/resend", nil).code)
				code := f.mailedCode(t)

				for range wrong {
					r = c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": "CDFGHJ"})
					require.Equal(t, 400, r.code)
					assert.Equal(t, "incorrect_code", r.Errors[0].Code)
				}
				r = c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": strings.ToLower(code)})
				if wrong >= 3 {
					assert.Equal(t, 409, r.code, "the attempts are used up: the flow ends")
					r = c.do(http.MethodGet, "auth/session", nil)
					assert.Equal(t, 401, r.code)
					assert.Nil(t, r.flows(t)["login_by_code"]["is_pending"])
					return
				}
				require.Equal(t, 200, r.code)
				assert.Contains(t, string(r.Data), `"method":"code"`)
				assert.Equal(t, 200, c.do(http.MethodGet, "auth/session", nil).code)
				assert.Equal(t, 409, c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": code}).code)
			})
		}
	}
}

func TestLoginByCodeOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, headless.Options{})
	c := f.appClient(t)
	assert.Equal(t, 404, c.do(http.MethodPost, "auth/code/request", map[string]string{"email": "ada@example.test"}).code)
	assert.Equal(t, 409, c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": "CDFGHJ"}).code)
	assert.Equal(t, 409, c.do(http.MethodPost, "auth/code/resend", nil).code)
}

func TestPasswordResetByCode(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, codeConfig, tc.opts)
			registerAda(t, f)
			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)
			assert.Equal(t, 409, c.do(http.MethodGet, "auth/password/reset", nil, "X-Password-Reset-Key", "CDFGHJKL").code, "nothing pending")
			r := c.do(http.MethodPost, "auth/password/request", map[string]string{"email": "ada@example.test"})
			require.Equal(t, 401, r.code)
			assert.Equal(t, true, r.flows(t)["password_reset_by_code"]["is_pending"])
			code := f.mailedCode(t)

			r = c.do(http.MethodGet, "auth/password/reset", nil, "X-Password-Reset-Key", "CDFGHJKL")
			require.Equal(t, 400, r.code)
			assert.Equal(t, "key", r.Errors[0].Param)
			require.Equal(t, 200, c.do(http.MethodGet, "auth/password/reset", nil, "X-Password-Reset-Key", code).code)
			assert.Equal(t, 400, c.do(http.MethodPost, "auth/password/reset", map[string]string{"key": code, "password": "ada"}).code, "a weak password")
			assert.Equal(t, 401, c.do(http.MethodPost, "auth/password/reset", map[string]string{"key": code, "password": "difference-engine-1822"}).code)
			assert.Equal(t, 409, c.do(http.MethodPost, "auth/password/reset", map[string]string{"key": code, "password": "difference-engine-1822"}).code, "the flow ended")
			assert.Equal(t, 200, c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "difference-engine-1822"}).code)
		})
	}
}

func TestSignupVerifyByCode(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) {
				codeConfig(c)
				c.EmailVerification = restauth.VerificationMandatory
				c.EmailVerificationByCode.MaxAttempts = 4 // the test's wrong and right GET, wrong and right POST
			}, tc.opts)
			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)
			assert.Equal(t, 409, c.do(http.MethodPost, "auth/email/verify/resend", nil).code, "nothing pending")
			r := c.do(http.MethodPost, "auth/signup", map[string]string{"username": "ada", "email": "ada@example.test", "password": "analytical-engine-1843"})
			require.Equal(t, 401, r.code)
			assert.Equal(t, true, r.flows(t)["verify_email"]["is_pending"])
			first := f.mailedCode(t)

			sent := f.mailCount()
			require.Equal(t, 200, c.do(http.MethodPost, "auth/email/verify/resend", nil).code)
			assert.Equal(t, sent+1, f.mailCount(), "the resend mails a new code")
			code := f.mailedCode(t)
			assert.NotEqual(t, first, code)

			r = c.do(http.MethodGet, "auth/email/verify", nil)
			require.Equal(t, 400, r.code, "GET checks the code too, as allauth's")
			assert.Equal(t, "incorrect_code", r.Errors[0].Code)
			r = c.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", code)
			require.Equal(t, 200, r.code)
			assert.Contains(t, string(r.Data), "ada@example.test")
			r = c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": "CDFGHJ"})
			require.Equal(t, 400, r.code)
			r = c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": code})
			require.Equal(t, 401, r.code)
			assert.NotContains(t, r.flows(t), "verify_email")
			assert.Equal(t, 200, c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"}).code, "the address is verified")
		})
	}
}

func TestMFATrustSkipsSecondLogin(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) { c.MFA.Enabled, c.MFA.TrustEnabled = true, true }, tc.opts)
			app, _ := activateTOTP(t, f)
			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)
			login := func() result {
				return c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"})
			}
			r := login()
			require.Equal(t, 401, r.code)
			require.Contains(t, r.flows(t), "mfa_authenticate")
			f.advance(time.Minute)
			r = c.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": app.Code(f.clock())})
			if c.app {
				require.Equal(t, 200, r.code, "the app client has no trust stage")
				assert.Equal(t, 404, c.do(http.MethodPost, "auth/2fa/trust", map[string]bool{"trust": true}).code, "a browser route, as allauth's")
				return
			}
			require.Equal(t, 401, r.code)
			assert.Equal(t, true, r.flows(t)["mfa_trust"]["is_pending"])
			assert.NotContains(t, r.flows(t), "mfa_authenticate")
			assert.Equal(t, 400, c.do(http.MethodPost, "auth/2fa/trust", map[string]string{}).code)
			r = c.do(http.MethodPost, "auth/2fa/trust", map[string]bool{"trust": true})
			require.Equal(t, 200, r.code)
			assert.Contains(t, strings.Join(r.header.Values("Set-Cookie"), "\n"), "mfa_trusted=")

			require.Equal(t, 401, c.do(http.MethodDelete, "auth/session", nil).code)
			r = login()
			require.Equal(t, 200, r.code, "the trusted browser skips the second factor")

			// Without the cookie, the second factor is asked for again.
			other := tc.client(f, t)
			other.do(http.MethodGet, "auth/session", nil)
			r = other.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"})
			require.Equal(t, 401, r.code)
			assert.Contains(t, r.flows(t), "mfa_authenticate")
			f.advance(time.Minute)
			r = other.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": app.Code(f.clock())})
			require.Equal(t, 401, r.code)
			r = other.do(http.MethodPost, "auth/2fa/trust", map[string]bool{"trust": false})
			require.Equal(t, 200, r.code)
			assert.NotContains(t, strings.Join(r.header.Values("Set-Cookie"), "\n"), "mfa_trusted=")
		})
	}
}

func TestAppJWT(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, headless.Options{AppJWT: true})
	registerAda(t, f)
	c := f.appClient(t)
	r := c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"})
	require.Equal(t, 200, r.code)
	access, _ := r.Meta["access_token"].(string)
	refresh, _ := r.Meta["refresh_token"].(string)
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)

	bearer := f.appClient(t) // no session token: the access token alone
	assert.Equal(t, 200, bearer.do(http.MethodGet, "auth/session", nil, "Authorization", "Bearer "+access).code)
	assert.Equal(t, 401, bearer.do(http.MethodGet, "auth/session", nil, "Authorization", "Bearer "+access+"x").code)

	assert.Equal(t, 400, bearer.do(http.MethodPost, "tokens/refresh", map[string]string{}).code)
	r = bearer.do(http.MethodPost, "tokens/refresh", map[string]string{"refresh_token": refresh})
	require.Equal(t, 200, r.code)
	assert.Contains(t, string(r.Data), "access_token")
	var pair struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, jsonUnmarshal(r.Data, &pair))
	require.NotEmpty(t, pair.RefreshToken)
	assert.NotEqual(t, refresh, pair.RefreshToken, "rotated")
	assert.Equal(t, 200, bearer.do(http.MethodGet, "auth/session", nil, "Authorization", "Bearer "+pair.AccessToken).code)
	r = bearer.do(http.MethodPost, "tokens/refresh", map[string]string{"refresh_token": refresh})
	assert.Equal(t, 400, r.code, "a rotated refresh token is refused")
	r = bearer.do(http.MethodPost, "tokens/refresh", map[string]string{"refresh_token": pair.RefreshToken})
	assert.Equal(t, 400, r.code, "reuse ends the whole family")

	// Logout by bearer revokes the login.
	c2 := f.appClient(t)
	r = c2.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"})
	require.Equal(t, 200, r.code)
	refresh2, _ := r.Meta["refresh_token"].(string)
	access2, _ := r.Meta["access_token"].(string)
	b2 := f.appClient(t)
	assert.Equal(t, 401, b2.do(http.MethodDelete, "auth/session", nil, "Authorization", "Bearer "+access2).code)
	assert.Equal(t, 400, b2.do(http.MethodPost, "tokens/refresh", map[string]string{"refresh_token": refresh2}).code, "logout revoked it")

	// Without AppJWT the route is not there, and the browser client has none.
	plain := newFixture(t, nil, headless.Options{})
	assert.Equal(t, 404, plain.appClient(t).do(http.MethodPost, "tokens/refresh", map[string]string{"refresh_token": refresh}).code)
}

func jsonUnmarshal(raw []byte, v any) error {
	return json.Unmarshal(raw, v)
}

func TestLoginByCodeThenSecondFactor(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) { codeConfig(c); c.MFA.Enabled = true }, tc.opts)
			app, _ := activateTOTP(t, f)
			ctx := context.Background()
			_, err := f.svc.AddEmailAddress(ctx, 1, "ada@example.test") // ada is the fixture's first user
			require.NoError(t, err)
			codeLoginThenTOTP(t, f, tc.client(f, t), app, "ada@example.test")
		})
	}
}

// codeLoginThenTOTP logs c in with a code mailed to email, which leaves the second factor
// pending, then with app's TOTP code, and checks that the session records both methods.
func codeLoginThenTOTP(t *testing.T, f *fixture, c *client, app *otptest.App, email string) {
	t.Helper()
	c.do(http.MethodGet, "auth/session", nil)
	require.Equal(t, 401, c.do(http.MethodPost, "auth/code/request", map[string]string{"email": email}).code)
	r := c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": f.mailedCode(t)})
	require.Equal(t, 401, r.code)
	assert.Equal(t, true, r.flows(t)["mfa_authenticate"]["is_pending"])
	f.advance(time.Minute)
	r = c.do(http.MethodPost, "auth/2fa/authenticate", map[string]string{"code": app.Code(f.clock())})
	require.Equal(t, 200, r.code, string(r.Data))
	assert.Contains(t, string(r.Data), `"method":"code"`)
	assert.Contains(t, string(r.Data), `"method":"mfa"`)
}

// A signup whose address another account holds verified answers, code by code, as a new
// account's (enumeration prevention): the codes just never match.
func TestSignupVerifyByCodeConceals(t *testing.T) {
	t.Parallel()
	statuses := map[bool][]int{}
	for _, taken := range []bool{false, true} {
		f := newFixture(t, func(c *restauth.Config) {
			codeConfig(c)
			c.EmailVerification = restauth.VerificationMandatory
			c.RateLimits.ResendPerEmail = restauth.RateRule{Name: restauth.RuleResendEmail, Limit: 1, Window: 10 * time.Minute}
		}, headless.Options{})
		if taken {
			reg, err := f.svc.Register(context.Background(), restauth.RegisterRequest{Username: "ada", Email: "ada@example.test", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
			require.NoError(t, err)
			require.NotNil(t, reg.VerificationCode, "by code, Register mails a code")
			_, err = f.svc.VerifyEmailCode(context.Background(), *reg.VerificationCode, f.mailedCode(t))
			require.NoError(t, err)
			f.advance(2 * time.Hour) // ada's own code no longer counts
		}
		c := f.appClient(t)
		var got []int
		r := c.do(http.MethodPost, "auth/signup", map[string]string{"username": "eve", "email": "ada@example.test", "password": "analytical-engine-1843"})
		got = append(got, r.code)
		assert.Equal(t, true, r.flows(t)["verify_email"]["is_pending"])
		got = append(got, c.do(http.MethodPost, "auth/email/verify/resend", nil).code)
		f.advance(11 * time.Minute) // the resend window is over, the code not yet expired
		got = append(got, c.do(http.MethodPost, "auth/email/verify/resend", nil).code)
		got = append(got, c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": "CDFGHJ"}).code)
		statuses[taken] = got
	}
	assert.Equal(t, []int{401, 429, 200, 400}, statuses[false])
	assert.Equal(t, statuses[false], statuses[true])
}

// TestConcealedSignupVerifyByCode: a signup that enumeration prevention conceals (the
// address is another account's, verified) has a verify_email flow whose every step
// answers as a real signup's does to someone without the mail: GET and POST
// auth/email/verify refuse the code (400), resends answer 200, and once the attempts are
// used up the flow ends (409), as allauth's does.
func TestConcealedSignupVerifyByCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *restauth.Config) {
		codeConfig(c)
		c.EmailVerification = restauth.VerificationMandatory
		c.EmailVerificationByCode.MaxAttempts = 3
	}, headless.Options{})
	ctx := context.Background()
	reg, err := f.svc.Register(ctx, restauth.RegisterRequest{Username: "ada", Email: "ada@example.test", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
	require.NoError(t, err)
	addrs, err := f.svc.EmailAddresses(ctx, reg.User.ID)
	require.NoError(t, err)
	_, err = f.store.VerifyEmailAddress(ctx, addrs[0].ID, true)
	require.NoError(t, err)

	signup := func(username, email string) *client {
		c := f.browser(t, "/_allauth/browser/v1/")
		c.do(http.MethodGet, "auth/session", nil)
		r := c.do(http.MethodPost, "auth/signup", map[string]string{"username": username, "email": email, "password": "analytical-engine-1843"})
		require.Equal(t, 401, r.code)
		assert.Equal(t, true, r.flows(t)["verify_email"]["is_pending"])
		return c
	}
	real, concealed := signup("bob", "bob@example.test"), signup("eve", "ada@example.test")
	for _, c := range []*client{real, concealed} {
		r := c.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", "CDFGHJ")
		require.Equal(t, 400, r.code)
		assert.Equal(t, "incorrect_code", r.Errors[0].Code)
		assert.Equal(t, "key", r.Errors[0].Param)
		assert.Equal(t, 200, c.do(http.MethodPost, "auth/email/verify/resend", nil).code)
	}
	for range 2 {
		r := concealed.do(http.MethodPost, "auth/email/verify", map[string]string{"key": "CDFGHJ"})
		require.Equal(t, 400, r.code)
	}
	// The resend's new decoy has attempts of its own; these three use them up.
	assert.Equal(t, 400, concealed.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", "CDFGHJ").code)
	r := concealed.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", "CDFGHJ")
	assert.Equal(t, 409, r.code, "the attempts are used up: the flow ended")
	r = concealed.do(http.MethodGet, "auth/session", nil)
	assert.NotContains(t, r.flows(t), "verify_email")
}

// TestLoginByCodeRefusedUnverifiedKeepsNoCode: under mandatory verification, a login by
// code that leaves its user without a verified address (the code went to the User.Email of
// an account that has no address row for it, as one made by an admin: allauth's
// verify_email_indirectly has nothing to verify then either) is refused with verify_email
// pending, and the code is gone with the login_by_code stage: confirming again is 409 and
// no login_by_code is pending, as allauth clears its login stash when a login stage ends.
// (A code to another address the account holds verifies that address and logs in:
// TestLoginByCodeBySecondaryAddressMandatory.)
func TestLoginByCodeRefusedUnverifiedKeepsNoCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *restauth.Config) {
		codeConfig(c)
		c.EmailVerification = restauth.VerificationMandatory
	}, headless.Options{})
	ctx := context.Background()
	require.NoError(t, f.store.CreateUser(ctx, &restauth.User{Username: "ada", Email: "ada2@example.test", IsActive: true, DateJoined: f.now}, nil))

	c := f.appClient(t)
	r := c.do(http.MethodPost, "auth/code/request", map[string]string{"email": "ada2@example.test"})
	require.Equal(t, 401, r.code)
	require.Equal(t, true, r.flows(t)["login_by_code"]["is_pending"])
	code := f.mailedCode(t)
	r = c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": code})
	require.Equal(t, 401, r.code, "the account has no verified address")
	flows := r.flows(t)
	assert.Equal(t, true, flows["verify_email"]["is_pending"])
	assert.NotContains(t, flows["login_by_code"], "is_pending", "no code is pending any more")
	assert.Equal(t, 409, c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": code}).code)
	assert.Equal(t, 409, c.do(http.MethodPost, "auth/code/resend", nil).code)
}

// TestRefusedLoginVerifiesByCode: with verification by code, a password login refused
// because the address is unverified mails a verification code and keeps it pending, so
// the verify_email flow it answers can go on (GET and POST auth/email/verify), as
// allauth's verify_email stage by code does; before, no code was pending and the flow was
// a dead end (409).
func TestRefusedLoginVerifiesByCode(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) {
				codeConfig(c)
				c.EmailVerification = restauth.VerificationMandatory
			}, tc.opts)
			signup := tc.client(f, t)
			signup.do(http.MethodGet, "auth/session", nil)
			require.Equal(t, 401, signup.do(http.MethodPost, "auth/signup", map[string]string{"username": "ada", "email": "ada@example.test", "password": "analytical-engine-1843"}).code)

			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)
			sent := f.mailCount()
			r := c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"})
			require.Equal(t, 401, r.code)
			assert.Equal(t, true, r.flows(t)["verify_email"]["is_pending"])
			require.Equal(t, sent+1, f.mailCount(), "the refusal mails a code")
			code := f.mailedCode(t)
			r = c.do(http.MethodGet, "auth/email/verify", nil, "X-Email-Verification-Key", code)
			require.Equal(t, 200, r.code)
			assert.Equal(t, true, r.Meta["is_authenticating"])
			r = c.do(http.MethodPost, "auth/email/verify", map[string]string{"key": code})
			require.Equal(t, 401, r.code)
			assert.NotContains(t, r.flows(t), "verify_email")
			assert.Equal(t, 200, c.do(http.MethodPost, "auth/login", map[string]string{"username": "ada", "password": "analytical-engine-1843"}).code)
		})
	}
}

// TestLoginByCodeBySecondaryAddressMandatory: as allauth (RequestLoginCodeForm looks the
// account up by any of its addresses; the login by code verifies the address the code
// went to, and the verify_email stage asks for that address, not the primary), a code
// asked for a secondary, unverified address under mandatory verification logs the user
// in although their primary is unverified, records the address in the authentication
// method, and verifies it without making it primary.
func TestLoginByCodeBySecondaryAddressMandatory(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) {
				codeConfig(c)
				c.EmailVerification = restauth.VerificationMandatory
			}, tc.opts)
			ctx := context.Background()
			reg, err := f.svc.Register(ctx, restauth.RegisterRequest{Username: "ada", Email: "ada@example.test", Password1: "analytical-engine-1843", Password2: "analytical-engine-1843", WithoutToken: true})
			require.NoError(t, err)
			_, err = f.svc.AddEmailAddress(ctx, reg.User.ID, "ada2@example.test")
			require.NoError(t, err)

			c := tc.client(f, t)
			c.do(http.MethodGet, "auth/session", nil)
			sent := f.mailCount()
			r := c.do(http.MethodPost, "auth/code/request", map[string]string{"email": "ADA2@example.test"})
			require.Equal(t, 401, r.code)
			require.Equal(t, sent+1, f.mailCount())
			f.mu.Lock()
			to := f.mails[len(f.mails)-1].To
			f.mu.Unlock()
			assert.Equal(t, []string{"ada2@example.test"}, to, "the code goes to the address asked for")
			r = c.do(http.MethodPost, "auth/code/confirm", map[string]string{"code": f.mailedCode(t)})
			require.Equal(t, 200, r.code, string(r.Data))
			assert.Contains(t, string(r.Data), `"method":"code"`)
			assert.Contains(t, string(r.Data), `"email":"ADA2@example.test"`, "the method names the address the code went to")
			assert.Equal(t, 200, c.do(http.MethodGet, "auth/session", nil).code)

			addrs, err := f.svc.EmailAddresses(ctx, reg.User.ID)
			require.NoError(t, err)
			require.Len(t, addrs, 2)
			for _, a := range addrs {
				switch a.Email {
				case "ada@example.test":
					assert.True(t, a.Primary)
					assert.False(t, a.Verified)
				case "ada2@example.test":
					assert.False(t, a.Primary)
					assert.True(t, a.Verified, "the code proved it")
				}
			}
		})
	}
}

// TestLoginByCodeBySecondaryAddressThenSecondFactor: the address a code proved travels
// with the pending mfa_authenticate flow in the session, so under mandatory verification
// the second factor completes the login although the primary address is unverified.
func TestLoginByCodeBySecondaryAddressThenSecondFactor(t *testing.T) {
	t.Parallel()
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *restauth.Config) {
				codeConfig(c)
				c.MFA.Enabled = true
				c.EmailVerification = restauth.VerificationMandatory
			}, tc.opts)
			app, _ := activateTOTP(t, f)
			ctx := context.Background()
			primary, err := f.svc.AddEmailAddress(ctx, 1, "ada@example.test") // ada is the fixture's first user
			require.NoError(t, err)
			_, err = f.svc.SetPrimaryEmail(ctx, 1, primary.ID)
			require.NoError(t, err)
			_, err = f.svc.AddEmailAddress(ctx, 1, "ada2@example.test")
			require.NoError(t, err)

			codeLoginThenTOTP(t, f, tc.client(f, t), app, "ada2@example.test")
		})
	}
}
