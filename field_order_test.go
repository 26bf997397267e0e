package restauth_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DRF keeps the serializer's field order in a 400 body (username, email, password1,
// password2 for registration), where a Go map came out alphabetically.
func TestFieldErrorsInSerializerOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("taken", goodPassword, "")
	for _, tc := range []struct {
		name  string
		path  string
		body  map[string]any
		order []string
	}{
		{"registration", "/api/auth/registration/", map[string]any{"username": "taken", "email": "not-an-address", "password1": "1", "password2": []any{}},
			[]string{"username", "email", "password1", "password2"}},
		{"reset confirm", "/api/auth/password/reset/confirm/", map[string]any{},
			[]string{"new_password1", "new_password2", "uid", "token"}},
	} {
		res := e.do(http.MethodPost, tc.path, tc.body)
		require.Equal(t, http.StatusBadRequest, res.Code, tc.name)
		body := res.Body.String()
		var fields map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &fields), body)
		require.Len(t, fields, len(tc.order), "%s: %s", tc.name, body)
		last := -1
		for _, f := range tc.order {
			at := strings.Index(body, `"`+f+`":`)
			require.GreaterOrEqual(t, at, 0, "%s: %s missing in %s", tc.name, f, body)
			assert.Greater(t, at, last, "%s: %s out of serializer order in %s", tc.name, f, body)
			last = at
		}
	}
}
