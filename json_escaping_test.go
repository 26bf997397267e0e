package restauth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// DRF writes "&", "<" and ">" as they are; Go's HTML escaping (\u0026) broke scripts that
// grep or sed a body for a pagination link.
func TestJSONIsNotHTMLEscaped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, key := e.register("amp", goodPassword, "")
	_, err := e.svc.IssueToken(context.Background(), u, "second")
	require.NoError(t, err)
	res := e.do(http.MethodGet, "/api/user/tokens/?limit=1", nil, withToken(key))
	require.Equal(t, http.StatusOK, res.Code, res.Body.String())
	body := res.Body.String()
	assert.Contains(t, body, "limit=1&offset=1", "the next link as DRF writes it")
	assert.False(t, strings.Contains(body, `\u0026`), body)
}
