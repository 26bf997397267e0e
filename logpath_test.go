package restauth

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Log lines name a request by its route, never by a path that holds a confirmation key.
func TestLogPathHoldsNoKey(t *testing.T) {
	t.Parallel()
	const key = "MTI:1tKq2v:Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789"
	path := "/api/auth/registration/account-confirm-email/" + key + "/"

	matched := httptest.NewRequest("GET", path, nil)
	c := &call{prefix: "/api/auth/", route: &route{pattern: "registration/account-confirm-email/{name}/"}}
	matched = matched.WithContext(context.WithValue(context.Background(), clientKey{}, c))
	assert.Equal(t, "/api/auth/registration/account-confirm-email/{name}/", logPath(matched))

	unmatched := httptest.NewRequest("GET", path, nil)
	got := logPath(unmatched)
	assert.False(t, strings.Contains(got, key), got)
	assert.Equal(t, "/api/auth/registration/account-confirm-email/{…}/", got)

	plain := httptest.NewRequest("GET", "/api/user/me/", nil)
	assert.Equal(t, "/api/user/me/", logPath(plain))
}
