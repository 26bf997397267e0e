package restauth_test

import (
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// allauthSpecPath is allauth's own specification of the headless API, present in CI and
// absent from a user's checkout.
const allauthSpecPath = "/work/shared/spec/allauth-headless/openapi.yaml"

// checkHeadlessPath holds a headless path of the document to its conventions: allauth's
// routes under /_allauth/ without trailing slash, every answer allauth's JSON envelope
// (redirects aside), and the answers every route may give listed (429, 500, 503; 403 for
// the browser's CSRF check on unsafe methods; 410 for the app client's gone session).
// Routes documented as not served answer 404 only.
func checkHeadlessPath(t *testing.T, path string, item *v3.PathItem, operationIDs map[string]string) {
	t.Helper()
	assert.False(t, strings.HasSuffix(path, "/"), "headless path %s has no trailing slash", path)
	perClient := strings.HasPrefix(path, "/_allauth/{client}/v1/")
	assert.True(t, perClient || strings.HasPrefix(path, "/_allauth/browser/v1/") || strings.HasPrefix(path, "/_allauth/app/v1/"), path)
	for method, op := range item.GetOperations().FromOldest() {
		where := strings.ToUpper(method) + " " + path
		checkOperationBasics(t, where, op, operationIDs)
		assert.True(t, strings.HasPrefix(op.OperationId, "headless"), "%s: operationId %s", where, op.OperationId)
		require.NotEmpty(t, op.Tags, where)
		notServed := op.Tags[0] == "headless: not served"
		var codes []string
		for code, res := range op.Responses.Codes.FromOldest() {
			codes = append(codes, code)
			status, err := strconv.Atoi(code)
			require.NoError(t, err, "%s: status %s", where, code)
			if status == http.StatusFound {
				assert.Zero(t, orderedmap.Len(res.Content), "%s %d has no body", where, status)
				continue
			}
			_, ok := res.Content.Get("application/json")
			assert.True(t, ok && orderedmap.Len(res.Content) == 1, "%s %d must be application/json alone", where, status)
		}
		if notServed {
			assert.Equal(t, []string{"404"}, codes, where)
			continue
		}
		want := []string{"429", "500", "503"}
		if method != "get" {
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
			if res, ok := op.Responses.Codes.Get(code); ok {
				assert.Equal(t, ref, res.GoLow().GetReference(), "%s %s", where, code)
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
	d, err := libopenapi.NewDocument(doc)
	require.NoError(t, err)
	model, err := d.BuildV3Model()
	require.NoError(t, err)
	var out []string
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		if !strings.HasPrefix(path, "/_allauth/") {
			continue
		}
		for method := range item.GetOperations().FromOldest() {
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}
