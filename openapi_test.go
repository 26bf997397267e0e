package restauth_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/oatest"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc, err := oatest.Parse(restauth.OpenAPI())
	require.NoError(t, err, "the document must parse, every $ref resolved")
	assert.Equal(t, "3.0.3", doc.OpenAPI)

	// oatest.New also validates the document against the OpenAPI 3.0 meta-schema.
	_, err = oatest.New(restauth.OpenAPI())
	require.NoError(t, err)
}

func TestOpenAPIPathsAndOperations(t *testing.T) {
	t.Parallel()
	doc, err := oatest.Parse(restauth.OpenAPI())
	require.NoError(t, err)

	// The error answers every operation documents, and those body-taking ones add.
	common := []string{"401", "403", "404", "429"}
	withBody := []string{"400", "413", "415"}

	operationIDs := map[string]string{}
	var paths []string
	paths = slices.Sorted(maps.Keys(doc.Paths.Map()))
	for _, path := range paths {
		item := doc.Paths.Value(path)
		if path == "/auth/" {
			// The reverse-proxy check is no DRF route: a status and never a body.
			op := item.Get
			require.NotNil(t, op, "GET /auth/")
			operationIDs[op.OperationID] = "GET " + path
			assert.NotEmpty(t, op.Description)
			assert.NotEmpty(t, op.Security)
			var codes []string
			for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
				codes = append(codes, code)
				assert.Empty(t, op.Responses.Value(code).Value.Content, "GET /auth/ %s must have no body", code)
			}
			assert.Equal(t, []string{"200", "403", "503"}, codes)
			continue
		}
		assert.True(t, strings.HasPrefix(path, "/api/"), "path %s must start with /api/", path)
		assert.True(t, strings.HasSuffix(path, "/"), "path %s must end with /", path)

		ops := item.Operations()
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			op := ops[method]
			where := method + " " + path
			// Server-rendered pages answer HTML pages, and redirects, and authenticate
			// nobody (no 401); their errors before the handler are still JSON.
			page := slices.Contains(op.Tags, "pages")
			require.NotEmpty(t, op.OperationID, where)
			if prev, dup := operationIDs[op.OperationID]; dup {
				t.Errorf("operationId %s used by %s and %s", op.OperationID, prev, where)
			}
			operationIDs[op.OperationID] = where
			assert.NotEmpty(t, op.Description, where)
			assert.NotEmpty(t, op.Security, "%s must state its security", where)
			assert.Nil(t, op.Responses.Default(), "%s: a default response would hide undocumented statuses", where)

			var codes []string
			for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
				res := op.Responses.Value(code).Value
				codes = append(codes, code)
				status, err := strconv.Atoi(code)
				require.NoError(t, err, "%s: status %s", where, code)
				if status == http.StatusNoContent || status == http.StatusFound || status == http.StatusSeeOther {
					assert.Empty(t, res.Content, "%s %d must have no body", where, status)
					continue
				}
				if where+" "+code == "POST /api/auth/login/ 401" {
					// The mfa flow's 401 is the reference's empty HttpResponse (text/html);
					// a wrong Basic header's is DRF's JSON. Exactly those two.
					_, json := res.Content["application/json"]
					_, html := res.Content["text/html"]
					assert.True(t, json && html && len(res.Content) == 2, "%s %d: JSON and the empty HTML answer", where, status)
					continue
				}
				require.Len(t, res.Content, 1, "%s %d: one media type", where, status)
				_, ok := res.Content["application/json"]
				if _, html := res.Content["text/html"]; page && html {
					ok = status < http.StatusInternalServerError
				}
				assert.True(t, ok, "%s %d must be application/json (a page's 2xx-4xx may be text/html)", where, status)
			}
			if page {
				assert.Contains(t, codes, "404", where)
				continue
			}
			for _, code := range common {
				assert.Contains(t, codes, code, where)
			}
			if op.RequestBody != nil || slices.Contains([]string{"POST", "PUT", "PATCH"}, method) {
				for _, code := range withBody {
					assert.Contains(t, codes, code, where)
				}
			}
		}
	}

	for _, want := range []string{
		"/api/",
		"/api/auth/login/", "/api/auth/login/mfa/", "/api/auth/logout/", "/api/auth/user/",
		"/api/auth/password/change/", "/api/auth/password/reset/", "/api/auth/password/reset/confirm/",
		"/api/auth/registration/", "/api/auth/registration/account-confirm-email/{key}/", "/api/auth/registration/verify-email/", "/api/auth/registration/resend-email/",
		"/api/auth/providers/", "/api/auth/emails/",
		"/api/auth/emails/{id}/primary/", "/api/auth/emails/{id}/verify/", "/api/auth/emails/{id}/remove/",
		"/api/auth/social/", "/api/auth/social/{id}/disconnect/",
		"/api/auth/social/{provider}/login/", "/api/auth/social/{provider}/connect/",
		"/api/auth/social/{provider}/callback/",
		"/api/auth/mfa/totp/", "/api/auth/mfa/recovery-codes/",
		"/api/user/me/", "/api/user/roles/", "/api/user/token/", "/api/user/me/token/", "/api/user/tokens/", "/api/user/tokens/{id}/",
		"/api/email/generate/", "/api/email/login/",
		"/auth/",
	} {
		assert.True(t, slices.Contains(paths, want), "the document must list %s", want)
	}
	assert.Nil(t, doc.Paths.Value("/api/auth/logout/").Get, "GET logout is not served (405)")
}

func TestOpenAPIReturnsACopy(t *testing.T) {
	t.Parallel()
	a := restauth.OpenAPI()
	require.NotEmpty(t, a)
	a[0] = 'X'
	assert.NotEqual(t, a[0], restauth.OpenAPI()[0])
}

// TestOpenAPIHarnessCatchesMismatch shows the contract check that handler tests use:
// a correct answer passes, and a login answer without "key" is reported.
func TestOpenAPIHarnessCatchesMismatch(t *testing.T) {
	t.Parallel()
	contract, err := oatest.New(restauth.OpenAPI())
	require.NoError(t, err)

	answer := func(body string) *http.Response {
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(http.StatusOK)
		_, _ = rec.WriteString(body)
		return rec.Result()
	}
	req := httptest.NewRequest(http.MethodPost, "/api/auth/login/", nil)

	contract.Check(t, req, answer(`{"key":"inv-0123456789abcdef0123456789abcdef01234567-20241130"}`))

	problems := contract.Problems(req, answer(`{"token":"inv-0123456789abcdef0123456789abcdef01234567-20241130"}`))
	require.NotEmpty(t, problems)
	assert.Contains(t, strings.Join(problems, "\n"), `property "key" is missing`)
}
