package restauth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// notices returns the security notices sent since the mailer was last read, as
// "recipient subject" lines.
func (e *testEnv) notices(from int) []string {
	var out []string
	for _, m := range e.mailer.Messages()[from:] {
		out = append(out, strings.Join(m.To, ",")+" "+m.Subject)
	}
	return out
}

func TestSecurityNotifications(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// act changes something about how user "nell" (primary nell@example.com, with TOTP
		// when mfa is set) logs in.
		act  func(t *testing.T, e *testEnv, key string)
		mfa  bool
		want []string
	}{
		{"password changed", func(t *testing.T, e *testEnv, key string) {
			res := e.do(http.MethodPost, "/api/auth/password/change/", map[string]any{
				"old_password": goodPassword, "new_password1": newPassword, "new_password2": newPassword}, withToken(key))
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		}, false, []string{"nell@example.com [restauth] Password Changed"}},
		{"password reset", func(t *testing.T, e *testEnv, _ string) {
			uid, token := e.requestReset(t, "nell@example.com", len(e.mailer.Messages())+1)
			require.Equal(t, http.StatusOK, e.confirmReset(uid, token).Code)
		}, false, []string{"nell@example.com [restauth] Password Reset E-mail", "nell@example.com [restauth] Password Reset"}},
		{"primary address changed", func(t *testing.T, e *testEnv, key string) {
			u, err := e.store.UserByUsername(context.Background(), "nell")
			require.NoError(t, err)
			addr := &restauth.EmailAddress{UserID: u.ID, Email: "nell@new.example.com", Verified: true}
			require.NoError(t, e.store.AddEmailAddress(context.Background(), addr))
			res := e.do(http.MethodPost, "/api/auth/emails/"+fmtFloat(float64(addr.ID))+"/primary/", nil, withToken(key))
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
			if last := e.mailer.Messages()[len(e.mailer.Messages())-1]; strings.HasSuffix(last.Subject, "E-mail Changed") {
				assert.Contains(t, last.Text, "from nell@example.com to nell@new.example.com")
				assert.Contains(t, last.HTML, "nell@new.example.com")
			}
		}, false, []string{"nell@example.com [restauth] E-mail Changed"}},
		{"TOTP activated", func(t *testing.T, e *testEnv, key string) {
			res := e.do(http.MethodGet, totpPath, nil, withToken(key))
			app := scanOTPAuthURL(t, res.JSON(t)["otpauth_url"].(string))
			require.Equal(t, http.StatusOK, e.do(http.MethodPost, totpPath, map[string]any{"code": app.Code(e.clock.Now())}, withToken(key)).Code)
		}, false, []string{"nell@example.com [restauth] Authenticator App Activated"}},
		{"TOTP deactivated", func(t *testing.T, e *testEnv, key string) {
			require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, totpPath, map[string]any{"password": goodPassword}, withToken(key)).Code)
		}, true, []string{"nell@example.com [restauth] Authenticator App Deactivated"}},
		{"MFA reset by an administrator", func(t *testing.T, e *testEnv, _ string) {
			u, err := e.store.UserByUsername(context.Background(), "nell")
			require.NoError(t, err)
			require.NoError(t, e.svc.ResetMFA(context.Background(), u.ID))
		}, true, []string{"nell@example.com [restauth] Authenticator App Deactivated"}},
		{"verified address removed", func(t *testing.T, e *testEnv, key string) {
			u, err := e.store.UserByUsername(context.Background(), "nell")
			require.NoError(t, err)
			id := e.addresses(t, u.ID)[0].ID
			res := e.do(http.MethodPost, "/api/auth/emails/"+fmtFloat(float64(id))+"/remove/", nil, withToken(key))
			require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		}, false, []string{"nell@example.com [restauth] E-mail Address Removed"}},
		{"recovery codes regenerated", func(t *testing.T, e *testEnv, key string) {
			require.Equal(t, http.StatusOK, e.do(http.MethodPost, recoveryPath, map[string]any{"password": goodPassword}, withToken(key)).Code)
		}, true, []string{"nell@example.com [restauth] New Recovery Codes Generated"}},
		{"a failed change sends nothing", func(t *testing.T, e *testEnv, key string) {
			res := e.do(http.MethodPost, "/api/auth/password/change/", map[string]any{
				"old_password": "wrong-password", "new_password1": newPassword, "new_password2": newPassword}, withToken(key))
			require.Equal(t, http.StatusBadRequest, res.Code)
		}, false, nil},
	}
	for _, tc := range tests {
		for _, disabled := range []bool{false, true} {
			name := tc.name
			if disabled {
				name += ", notifications off"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, withMFA, func(cfg *restauth.Config) { cfg.Mail.DisableSecurityNotifications = disabled })
				var key string
				if tc.mfa {
					key, _, _ = e.enrol(t, "nell")
				} else {
					_, key = e.register("nell", goodPassword, "nell@example.com")
				}
				u, err := e.store.UserByUsername(context.Background(), "nell")
				require.NoError(t, err)
				e.verify(t, e.addresses(t, u.ID)[0].ID)
				from := len(e.mailer.Messages())
				tc.act(t, e, key)
				want := tc.want
				if disabled {
					want = nil
					for _, w := range tc.want {
						if strings.HasSuffix(w, "Password Reset E-mail") {
							want = append(want, w) // the link itself is not a notice
						}
					}
				}
				assert.Equal(t, want, e.notices(from))
			})
		}
	}
}

// A user without an address has nowhere to be told; the change still succeeds.
func TestSecurityNotificationWithoutAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("orla", goodPassword, "")
	res := e.do(http.MethodPost, "/api/auth/password/change/", map[string]any{
		"old_password": goodPassword, "new_password1": newPassword, "new_password2": newPassword}, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	assert.Empty(t, e.mailer.Messages())
}
