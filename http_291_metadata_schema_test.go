package restauth

import (
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/internal/oatest"
)

// The InvenTree API 291 schemas (drf-spectacular's output for the reference), whose
// request bodies are the views' serializers and whose operation descriptions are the
// views' docstrings.
const (
	schemaAuth291 = "/work/shared/spec/openapi-auth-291.yaml"
	schemaUser291 = "/work/shared/spec/openapi-user-291.yaml"
)

// loadSchema291 reads one 291 schema; the test is skipped where /work/shared is absent.
// schema291 is one parsed 291 schema, with its source for the orders the model forgets.
type schema291 struct {
	*openapi3.T
	raw []byte
}

func loadSchema291(t *testing.T, path string) *schema291 {
	t.Helper()
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skip("the 291 schema is not here:", path)
	}
	require.NoError(t, err)
	doc, err := oatest.Parse(raw)
	require.NoError(t, err)
	return &schema291{T: doc, raw: raw}
}

// methodDocstrings are the views whose schema operation shows a method's docstring: DRF's
// description is the class's (get_view_description), drf-spectacular prefers the
// method's. The value is the schema's text, pinned so that a new schema is noticed.
var methodDocstrings = map[string]string{
	"/api/auth/providers/":           "Get the list of providers.",
	"/api/auth/emails/{id}/primary/": "Filter item, run action and return data.",
	"/api/auth/emails/{id}/verify/":  "Filter item, run action and return data.",
	"/api/auth/emails/{id}/remove/":  "Filter item, run action and return data.",
	"/api/":                          "Serve current server information.",
}

// notIn291Schema are routes the 291 schemas leave out: restauth's MFA extension, Django
// views that are not DRF ones, and InvenTree routes the schema files do not cover.
var notIn291Schema = []string{
	"/api/auth/mfa/totp/", "/api/auth/mfa/recovery-codes/",
	"/api/auth/" + confirmPagePath + "{name}/", "/api/auth/" + mfaPagePath,
	"/api/auth/social/{name}/login/", "/api/auth/social/{name}/connect/", "/api/auth/social/{name}/callback/",
	"/api/user/roles/", "/api/user/me/token/", magicRoot + "generate/", magicRoot + "login/",
}

// TestMetadataMatches291Schema checks the OPTIONS field tables against the 291 schema's
// request bodies (field order, type, max_length, min_length, read_only, required, label,
// help_text) and the descriptions against its operation descriptions.
func TestMetadataMatches291Schema(t *testing.T) {
	t.Parallel()
	auth, user := loadSchema291(t, schemaAuth291), loadSchema291(t, schemaUser291)
	// The route and view tables read only the configuration.
	d := &api291{svc: &Service{cfg: Config{
		// The reference runs with dj-rest-auth's OLD_PASSWORD_FIELD_ENABLED off.
		AllowPasswordChangeWithoutOld: true,
		MFA:                           MFAConfig{Enabled: true},
	}}}
	trees := []struct {
		prefix string
		routes []*route
		doc    *schema291
	}{
		{"/api/auth/", withViews(d.authRoutes(), d.authViews()), auth},
		{"/api/user/", withViews(d.userRoutes(), d.userViews()), user},
		{apiRoot, withViews(d.apiRoutes(), d.apiViews()), user},
		{magicRoot, withViews(d.magicRoutes(), d.magicViews()), nil},
	}
	checked := 0
	for _, tree := range trees {
		for _, rte := range tree.routes {
			path := tree.prefix + rte.pattern
			t.Run(path, func(t *testing.T) {
				var item *openapi3.PathItem
				if tree.doc != nil {
					item = tree.doc.Paths.Value(path)
				}
				if item == nil {
					assert.Contains(t, notIn291Schema, path, "a route the 291 schema has not")
					return
				}
				checked++
				require.NotNil(t, rte.view, "a DRF view without a description")
				var descriptions []string
				for _, op := range item.Operations() {
					descriptions = append(descriptions, op.Description)
				}
				if want, ok := methodDocstrings[path]; ok {
					assert.Contains(t, descriptions, want, "the pinned method docstring")
					if rte.view.description != want {
						assert.NotContains(t, descriptions, rte.view.description, "pinned as a method docstring, yet the class's")
					}
				} else {
					assert.Contains(t, descriptions, rte.view.description)
				}
				for _, method := range rte.methods {
					if method != http.MethodPost && method != http.MethodPut {
						continue
					}
					op := item.Post
					if method == http.MethodPut {
						op = item.Put
					}
					require.NotNil(t, op, method)
					if !rte.view.generic {
						assert.Nil(t, op.RequestBody, "%s: a view without a serializer", method)
						continue
					}
					var order []string
					if op.RequestBody != nil {
						var err error
						order, err = oatest.Keys(tree.doc.raw, "paths", path, strings.ToLower(method),
							"requestBody", "content", "application/json", "schema", "properties")
						require.NoError(t, err)
					}
					compareFields(t, rte.view.fields, op, order)
				}
			})
		}
	}
	assert.GreaterOrEqual(t, checked, 20, "routes compared with the schema")
}

// compareFields holds a serializer's field table to the operation's request body.
// order is the schema's property names in the document's order.
func compareFields(t *testing.T, fields []viewField, op *openapi3.Operation, order []string) {
	t.Helper()
	if op.RequestBody == nil {
		assert.Empty(t, fields, "no request body: an empty serializer")
		return
	}
	media := op.RequestBody.Value.Content.Get("application/json")
	require.NotNil(t, media)
	require.NotNil(t, media.Schema)
	s := media.Schema.Value
	require.NotNil(t, s)
	names := order
	require.ElementsMatch(t, slices.Collect(maps.Keys(s.Properties)), names)
	var ours []string
	for _, f := range fields {
		ours = append(ours, f.name)
	}
	require.Equal(t, names, ours, "the serializer's fields in its order")
	for _, f := range fields {
		pr := s.Properties[f.name]
		require.NotNil(t, pr, f.name)
		p := pr.Value
		require.NotNil(t, p, f.name)
		readOnly := p.ReadOnly
		assert.Equal(t, readOnly, f.readOnly, "%s read_only", f.name)
		if !readOnly {
			// drf-spectacular lists read-only fields as required (they are in every answer).
			assert.Equal(t, slices.Contains(s.Required, f.name), f.required, "%s required", f.name)
		}
		assert.Equal(t, schemaKind(p, f), f.kind, "%s type", f.name)
		assert.Equal(t, uint64OrZero(p.MaxLength), uint64(f.maxLength), "%s max_length", f.name)
		assert.Equal(t, p.MinLength, uint64(f.minLength), "%s min_length", f.name)
		got := f.label
		if got == "" {
			got = fieldLabel(f.name)
		}
		if p.Title != "" {
			assert.Equal(t, p.Title, got, "%s label", f.name)
		} else {
			// drf-spectacular leaves out a title that is a trivial variation of the name
			// (case, spaces, underscores): "ID" for id.
			assert.Equal(t, trivialForm(f.name), trivialForm(got), "%s label", f.name)
		}
		assert.Equal(t, p.Description, f.helpText, "%s help_text", f.name)
	}
}

// schemaKind is the DRF type name a schema property stands for. A primary-key related
// field is an integer in the schema; InvenTree reports it as a "related field".
func schemaKind(p *openapi3.Schema, f viewField) string {
	typ := ""
	if p.Type != nil && len(*p.Type) > 0 {
		typ = (*p.Type)[0]
	}
	switch {
	case typ == "string" && p.Format == "email":
		return fieldEmail
	case typ == "string":
		return fieldString
	case typ == "integer" && f.kind == fieldRelated && f.model != "":
		return fieldRelated
	case typ == "integer":
		return fieldInteger
	case typ == "boolean":
		return fieldBoolean
	case typ == "array":
		return fieldField // a ListSerializer: DRF's label_lookup falls back to Field
	}
	return "unknown " + typ
}

// trivialForm is drf-spectacular's comparison form of a label: lower case, without
// spaces, underscores and dashes.
func trivialForm(s string) string {
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.ToLower(s))
}

func uint64OrZero(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
