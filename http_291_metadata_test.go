package restauth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// objectKeys returns the keys of a JSON object in the order they were written.
func objectKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, "an object")
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

// TestOptionsMetadata291 asks OPTIONS of every 291 route, anonymously and with a token,
// and compares the answer with DRF's SimpleMetadata shape: name, description, renders,
// parses in that order and, for a caller allowed to write (DRF's check_permissions
// passes: a public route, or any authenticated caller), actions with the POST or PUT
// serializer's fields in its order. Protected routes refuse anonymous callers first (401).
func TestOptionsMetadata291(t *testing.T) {
	t.Parallel()
	e := apiEnv(t, func(c *restauth.Config) { c.MFA.Enabled, c.MagicLink.Enabled = true, true })
	_, key := e.register("ada", goodPassword, "ada@example.com")

	emailAction := map[string][]string{"POST": {}}
	tests := []struct {
		path   string
		name   string
		public bool
		// actions maps each write method to its serializer's fields; nil: no actions.
		actions map[string][]string
		// description is the expected start of the description; "" for Django views.
		description string
	}{
		{"/api/auth/login/", "Login", true, map[string][]string{"POST": {"username", "email", "password"}}, "API view for logging in"},
		{"/api/auth/logout/", "Logout", true, nil, "API view for logging out"},
		{"/api/auth/user/", "User Details", false, map[string][]string{"PUT": {"pk", "username", "email", "first_name", "last_name"}}, "Reads and updates UserModel fields"},
		{"/api/auth/password/change/", "Password Change", false, map[string][]string{"POST": {"old_password", "new_password1", "new_password2"}}, "Calls Django Auth SetPasswordForm"},
		{"/api/auth/registration/", "Register", true, map[string][]string{"POST": {"username", "email", "password1", "password2"}}, "Registers a new user."},
		{"/api/auth/providers/", "Social Provider List", true, nil, "List of available social providers."},
		{"/api/auth/password/reset/", "Password Reset", true, map[string][]string{"POST": {"email"}}, "Calls Django Auth PasswordResetForm"},
		{"/api/auth/password/reset/confirm/", "Password Reset Confirm", true, map[string][]string{"POST": {"new_password1", "new_password2", "uid", "token"}}, "Password reset e-mail link is confirmed"},
		{"/api/auth/registration/account-confirm-email/{name}/", "Confirm Email", true, nil, ""},
		{"/api/auth/login/mfa/", "Two-Factor Authenticate", true, nil, ""},
		{"/api/auth/registration/verify-email/", "Verify Email", true, map[string][]string{"POST": {"key"}}, "Verifies the email"},
		{"/api/auth/registration/resend-email/", "Resend Email Verification", true, map[string][]string{"POST": {"email"}}, "Resends another email"},
		{"/api/auth/emails/", "Email List", false, map[string][]string{"POST": {"id", "email", "verified", "primary", "user"}}, "List of registered email addresses"},
		{"/api/auth/emails/{id}/primary/", "Email Primary", false, emailAction, "Make an email"},
		{"/api/auth/emails/{id}/verify/", "Email Verify", false, emailAction, "Re-verify an email"},
		{"/api/auth/emails/{id}/remove/", "Email Remove", false, emailAction, "Remove an email"},
		{"/api/auth/social/", "Social Account List", false, nil, "List SocialAccounts"},
		{"/api/auth/social/{id}/disconnect/", "Social Account Disconnect", false, map[string][]string{"POST": {"access_token", "code", "id_token"}}, "Disconnect SocialAccount"},
		{"/api/auth/social/{name}/login/", "Social Login", true, nil, ""},
		{"/api/auth/social/{name}/connect/", "Social Connect", true, nil, ""},
		{"/api/auth/social/{name}/callback/", "Social Callback", true, nil, ""},
		{"/api/auth/mfa/totp/", "MFA TOTP", false, map[string][]string{"POST": {"code"}}, "TOTP enrolment"},
		{"/api/auth/mfa/recovery-codes/", "MFA Recovery Codes", false, map[string][]string{"POST": {"code", "password"}}, "Recovery codes"},
		{"/api/user/me/", "Me", false, map[string][]string{"PUT": {"pk", "username", "first_name", "last_name", "email", "groups", "is_staff", "is_superuser", "is_active"}}, "Detail endpoint for current user."},
		{"/api/user/roles/", "Role Details", false, nil, "API endpoint which lists the available role permissions"},
		{"/api/user/token/", "Get Auth Token", false, nil, "Return an API token"},
		{"/api/user/me/token/", "Get Auth Token", false, nil, "Return an API token"},
		{"/api/user/tokens/", "Api Token List", false, nil, "List of registered tokens"},
		{"/api/user/tokens/{id}/", "Api Token Detail", false, nil, "List of registered tokens"},
		{"/api/", "Info", true, nil, "Serve current server information."},
		{"/api/email/generate/", "Get Simple Login", true, map[string][]string{"POST": {"email"}}, "View to send a simple login link."},
		{"/api/email/login/", "Login", true, nil, ""},
	}
	var paths []string
	for _, tt := range tests {
		paths = append(paths, tt.path)
	}
	require.ElementsMatch(t, restauth.RoutePaths291(e.svc), paths, "one row per route")

	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			path := strings.NewReplacer("{id}", "1", "{name}", "github").Replace(tt.path)
			callers := []struct {
				name string
				opts []reqOpt
			}{{"anonymous", nil}, {"token", []reqOpt{withToken(key)}}}
			for _, c := range callers {
				res := e.do(http.MethodOptions, path, nil, c.opts...)
				if c.opts == nil && !tt.public {
					assert.Equal(t, http.StatusUnauthorized, res.Code, "%s: protected routes authenticate first", c.name)
					continue
				}
				require.Equal(t, http.StatusOK, res.Code, "%s: %s", c.name, res.Body.String())
				raw := res.Body.Bytes()
				wantKeys := []string{"name", "description", "renders", "parses"}
				if tt.actions != nil {
					wantKeys = append(wantKeys, "actions")
				}
				require.Equal(t, wantKeys, objectKeys(t, raw), "%s: DRF's keys in DRF's order", c.name)
				var body struct {
					Name        string                                `json:"name"`
					Description string                                `json:"description"`
					Renders     []string                              `json:"renders"`
					Parses      []string                              `json:"parses"`
					Actions     map[string]map[string]json.RawMessage `json:"actions"`
				}
				require.NoError(t, json.Unmarshal(raw, &body))
				assert.Equal(t, tt.name, body.Name, c.name)
				if tt.description == "" {
					assert.Empty(t, body.Description, c.name)
				} else {
					assert.True(t, strings.HasPrefix(body.Description, tt.description), "%s: description %q", c.name, body.Description)
				}
				assert.Equal(t, []string{"application/json"}, body.Renders)
				assert.Equal(t, []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}, body.Parses)
				var actions struct {
					Actions map[string]json.RawMessage `json:"actions"`
				}
				require.NoError(t, json.Unmarshal(raw, &actions))
				require.Len(t, actions.Actions, len(tt.actions), c.name)
				for method, fields := range tt.actions {
					require.Contains(t, actions.Actions, method, c.name)
					got := objectKeys(t, actions.Actions[method])
					if len(fields) == 0 {
						assert.Empty(t, got, "%s: an empty serializer", c.name)
						continue
					}
					assert.Equal(t, fields, got, "%s: the serializer's fields in its order", c.name)
					for name, info := range body.Actions[method] {
						keys := objectKeys(t, info)
						require.GreaterOrEqual(t, len(keys), 3, name)
						assert.Equal(t, []string{"type", "required", "read_only"}, keys[:3], "%s: get_field_info's order", name)
					}
				}
			}
		})
	}
}

// TestOptionsFieldInfo291 pins whole field descriptions, byte for byte where the order
// is DRF's: a plain serializer (login), a model serializer with defaults and a related
// field (e-mail addresses), a list of nested objects (me/groups).
func TestOptionsFieldInfo291(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, key := e.register("ada", goodPassword, "")

	res := e.do(http.MethodOptions, "/api/auth/login/", nil)
	require.Equal(t, http.StatusOK, res.Code)
	assert.Equal(t, `{"name":"Login","description":"API view for logging in via API.",`+
		`"renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],`+
		`"actions":{"POST":{`+
		`"username":{"type":"string","required":false,"read_only":false,"label":"Username"},`+
		`"email":{"type":"email","required":false,"read_only":false,"label":"Email"},`+
		`"password":{"type":"string","required":true,"read_only":false,"label":"Password"}}}}`, res.Body.String())

	post := optionsFields(t, e, "/api/auth/emails/", "POST", withToken(key))
	assert.Equal(t, `{"type":"integer","required":false,"read_only":true,"label":"ID"}`, post["id"])
	assert.Equal(t, `{"type":"email","required":true,"read_only":false,"label":"Email address","max_length":254}`, post["email"])
	assert.Equal(t, `{"type":"boolean","required":false,"read_only":false,"label":"Verified","default":false}`, post["verified"])
	assert.Equal(t, `{"type":"related field","required":true,"read_only":false,"label":"User","model":"user","api_url":"/api/user/","pk_field":"pk"}`, post["user"])

	put := optionsFields(t, e, "/api/user/me/", "PUT", withToken(key))
	assert.Equal(t, `{"type":"field","required":false,"read_only":true,"label":"Groups","child":{"type":"nested object","required":false,"read_only":true,"children":{`+
		`"pk":{"type":"integer","required":false,"read_only":true,"label":"ID"},`+
		`"name":{"type":"string","required":true,"read_only":false,"label":"Name","max_length":150}}}}`, put["groups"])
	assert.Equal(t, `{"type":"boolean","required":true,"read_only":false,"label":"Active","help_text":"Is this user account active","default":true}`, put["is_active"])
}

// optionsFields asks OPTIONS of path and returns the fields of one method's action, each
// as the JSON text of its description.
func optionsFields(t *testing.T, e *testEnv, path, method string, opts ...reqOpt) map[string]string {
	t.Helper()
	res := e.do(http.MethodOptions, path, nil, opts...)
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	var body struct {
		Actions map[string]map[string]json.RawMessage `json:"actions"`
	}
	require.NoError(t, json.Unmarshal(res.Body.Bytes(), &body))
	require.Contains(t, body.Actions, method)
	fields := make(map[string]string)
	for name, info := range body.Actions[method] {
		fields[name] = string(info)
	}
	return fields
}
