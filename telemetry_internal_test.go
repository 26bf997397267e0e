package restauth

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDetailMethod reads the login method from the Details the operations emit.
func TestDetailMethod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ detail, want string }{
		{"method=password", "password"},
		{"method=password+totp", "password"},
		{"invalid credentials login=0123456789abcdef", "password"},
		{"mfa required login=0123456789abcdef", "password"},
		{"invalid credentials method=basic login=0123456789abcdef", "basic"},
		{"mfa required method=basic login=0123456789abcdef", "basic"},
		{"method=social provider=github", "social"},
		{"method=passkey", "passkey"},
		{"invalid code method=code login=0123456789abcdef", "code"},
		{"invalid mfa code method=reauthentication login=0123456789abcdef", "reauthenticate"},
		{"invalid credentials method=reauthenticate login=0123456789abcdef", "reauthenticate"},
	} {
		assert.Equal(t, tc.want, detailMethod(tc.detail), tc.detail)
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
