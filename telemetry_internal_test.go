package restauth

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestLoginCount reads the login method and result from the typed fields of the events
// the operations emit (each case names the Detail it comes with), never from Detail.
func TestLoginCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		detail         string
		e              AuditEvent
		method, result string
	}{
		{"method=password", AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodPassword}, "password", "success"},
		{"method=password+totp", AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodPassword, MFAMethod: AuditMethodTOTP}, "password", "success"},
		{"method=code+totp", AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodCode, MFAMethod: AuditMethodTOTP}, "code", "success"},
		{"invalid credentials login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Method: AuditMethodPassword, Reason: AuditReasonInvalidCredentials}, "password", "failure"},
		{"mfa required login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Method: AuditMethodPassword, Reason: AuditReasonMFARequired}, "password", "mfa_required"},
		{"invalid credentials method=basic login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Method: AuditMethodBasic, Reason: AuditReasonInvalidCredentials}, "basic", "failure"},
		{"mfa required method=basic login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Method: AuditMethodBasic, Reason: AuditReasonMFARequired}, "basic", "mfa_required"},
		{"method=social provider=github", AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodSocial}, "social", "success"},
		{"method=passkey", AuditEvent{Kind: AuditLoginSucceeded, Method: AuditMethodPasskey}, "passkey", "success"},
		{"invalid code method=code login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Method: AuditMethodCode, Reason: AuditReasonInvalidCode}, "code", "failure"},
		{"invalid mfa code method=reauthentication login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Method: AuditMethodReauthenticate, Reason: AuditReasonInvalidMFACode}, "reauthenticate", "failure"},
		{"invalid credentials method=reauthenticate login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Method: AuditMethodReauthenticate, Reason: AuditReasonInvalidCredentials}, "reauthenticate", "failure"},
		{"cloned webauthn credential id=3 login=0123456789abcdef", AuditEvent{Kind: AuditLoginFailed, Reason: AuditReasonClonedWebAuthnCredential}, "password", "failure"},
		{"method=totp", AuditEvent{Kind: AuditReauthenticated, Method: AuditMethodTOTP}, "reauthenticate", "success"},
		{"rule=" + RuleLoginFailedAccount, AuditEvent{Kind: AuditThrottled, Rule: RuleLoginFailedAccount}, "password", "throttled"},
		{"rule=" + RuleWebAuthnFailedIP, AuditEvent{Kind: AuditThrottled, Rule: RuleWebAuthnFailedIP}, "passkey", "throttled"},
		{"rule=" + RuleSignupIP, AuditEvent{Kind: AuditThrottled, Rule: RuleSignupIP}, "", "throttled"},
		{"method=password", AuditEvent{Kind: AuditSignedUp, Method: AuditMethodPassword}, "", ""},
	} {
		tc.e.Detail = tc.detail
		method, result := loginCount(&tc.e)
		assert.Equal(t, tc.method, method, tc.detail)
		if tc.method != "" {
			assert.Equal(t, tc.result, result, tc.detail)
		}
		// The text plays no part: the same event with another Detail counts the same.
		tc.e.Detail = "method=other mfa required rule=other"
		method, result = loginCount(&tc.e)
		assert.Equal(t, tc.method, method, tc.detail)
		if tc.method != "" {
			assert.Equal(t, tc.result, result, tc.detail)
		}
	}
}

// TestThrottledLoginMethod: only the login rules count a throttled login.
func TestThrottledLoginMethod(t *testing.T) {
	t.Parallel()
	for rule, want := range map[string]string{
		RuleLoginFailedIP: "password", RuleLoginFailedAccount: "password", RuleLoginFailedAccountDay: "password",
		RuleWebAuthnFailedIP: "passkey", RuleSignupIP: "", RuleResetEmail: "", RuleMFAFailedUser: "",
	} {
		assert.Equal(t, want, throttledLoginMethod(rule), rule)
	}
}

// TestErrorType classes errors by restauth's sentinels, never by message.
func TestErrorType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&ThrottledError{}, "throttled"},
		{invalidCredentials(), "invalid_credentials"},
		{fieldError("username", "alice@example.com is taken"), "validation"},
		{fmt.Errorf("wrapped: %w", ErrNotFound), "not_found"},
		{busy(context.DeadlineExceeded), "deadline_exceeded"},
		{fmt.Errorf("pq: duplicate key (alice)"), "_OTHER"},
	} {
		assert.Equal(t, tc.want, errorType(tc.err), "%v", tc.err)
	}
}
