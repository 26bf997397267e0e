package restauth_test

import (
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/oatest"
)

// allauthSpecPath is allauth's own specification of the headless API, present in CI and
// absent from a user's checkout.
const allauthSpecPath = "/work/shared/spec/allauth-headless/openapi.yaml"

// checkHeadlessPath holds a headless path of the document to its conventions: allauth's
// routes under /_allauth/ without trailing slash, every answer allauth's JSON envelope
// (redirects aside), and the answers every route may give listed (429, 500, 503; 403 for
// the browser's CSRF check on unsafe methods; 410 for the app client's gone session).
// Routes documented as not served answer 404 only.
func checkHeadlessPath(t *testing.T, path string, item *openapi3.PathItem, operationIDs map[string]string) {
	t.Helper()
	assert.False(t, strings.HasSuffix(path, "/"), "headless path %s has no trailing slash", path)
	perClient := strings.HasPrefix(path, "/_allauth/{client}/v1/")
	assert.True(t, perClient || strings.HasPrefix(path, "/_allauth/browser/v1/") || strings.HasPrefix(path, "/_allauth/app/v1/"), path)
	ops := item.Operations()
	for _, method := range slices.Sorted(maps.Keys(ops)) {
		op := ops[method]
		where := method + " " + path
		checkOperationBasics(t, where, op, operationIDs)
		assert.True(t, strings.HasPrefix(op.OperationID, "headless"), "%s: operationId %s", where, op.OperationID)
		require.NotEmpty(t, op.Tags, where)
		notServed := op.Tags[0] == "headless: not served"
		var codes []string
		for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
			res := op.Responses.Value(code).Value
			codes = append(codes, code)
			status, err := strconv.Atoi(code)
			require.NoError(t, err, "%s: status %s", where, code)
			if status == http.StatusFound {
				assert.Empty(t, res.Content, "%s %d has no body", where, status)
				continue
			}
			_, ok := res.Content["application/json"]
			assert.True(t, ok && len(res.Content) == 1, "%s %d must be application/json alone", where, status)
		}
		if notServed {
			assert.Equal(t, []string{"404"}, codes, where)
			continue
		}
		want := []string{"429", "500", "503"}
		if method != http.MethodGet {
			want = append(want, "403")
		}
		if perClient || strings.HasPrefix(path, "/_allauth/app/") {
			want = append(want, "410")
		}
		for _, code := range want {
			assert.Contains(t, codes, code, where)
		}
		for code, ref := range map[string]string{
			"500": "#/components/responses/HeadlessServerError",
			"503": "#/components/responses/HeadlessServiceUnavailable",
		} {
			if res := op.Responses.Value(code); res != nil {
				assert.Equal(t, ref, res.Ref, "%s %s", where, code)
			}
		}
	}
}

// TestOpenAPIDocumentsEveryHeadlessOperation checks that the document lists every
// operation of allauth's specification (the browser-only and app-only ones under their
// client's literal path, as allauth lists them), and the provider callback besides.
func TestOpenAPIDocumentsEveryHeadlessOperation(t *testing.T) {
	t.Parallel()
	ours := headlessOperations(t, restauth.OpenAPI())
	assert.Contains(t, ours, "GET /_allauth/browser/v1/auth/provider/callback/{provider}")
	raw, err := os.ReadFile(allauthSpecPath)
	if os.IsNotExist(err) {
		t.Skip("allauth's specification is not here (" + allauthSpecPath + ")")
	}
	require.NoError(t, err)
	// info.description refers to description.md, which is prose: inline a stand-in.
	raw = []byte(strings.Replace(string(raw), "description:\n    $ref: \"./description.md\"", "description: see description.md", 1))
	theirs := headlessOperations(t, raw)
	require.Len(t, theirs, 56, "allauth 65.16 specifies 56 operations")
	for _, op := range theirs {
		assert.Contains(t, ours, op, "restauth's openapi.yaml must document %s", op)
	}
}

// headlessOperations lists "METHOD path" of a document's /_allauth/ paths, sorted.
func headlessOperations(t *testing.T, doc []byte) []string {
	t.Helper()
	d, err := oatest.Parse(doc)
	require.NoError(t, err)
	var out []string
	for path, item := range d.Paths.Map() {
		if !strings.HasPrefix(path, "/_allauth/") {
			continue
		}
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}
