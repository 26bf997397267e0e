// Package oatest checks, in tests, that HTTP answers match an OpenAPI 3 document: that
// the status code is documented for the operation, that the Content-Type is exactly
// application/json (InvenTree's Python client rejects anything else, even with a charset
// parameter) and that the body matches the documented schema.
//
// Build one Validator per document and share it between parallel tests:
//
//	var contract = oatest.MustLoad(restauth.OpenAPI())
//
//	func TestLogin(t *testing.T) {
//		t.Parallel()
//		req := httptest.NewRequest(http.MethodPost, "/api/auth/login/", body)
//		rec := httptest.NewRecorder()
//		handler.ServeHTTP(rec, req)
//		contract.Check(t, req, rec.Result())
//	}
//
// Only answers are checked, never requests, so tests may send malformed requests on purpose.
// This is the only non-test package allowed to import libopenapi-validator.
package oatest

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	vErrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// JSONContentType is the only Content-Type a JSON answer may carry.
const JSONContentType = "application/json"

// HTMLContentType is the Content-Type of the server-rendered pages (the e-mail
// confirmation page), documented as text/html.
const HTMLContentType = "text/html; charset=utf-8"

// maxBodyInMessage bounds how much of a body a failure message quotes.
const maxBodyInMessage = 4096

// Validator checks answers against one OpenAPI document. It is safe for concurrent use, so
// one Validator can serve every parallel test. libopenapi-validator showed no data race
// under -race without a lock, but it builds schema caches lazily, so validations are
// serialised by a mutex anyway (reading bodies happens outside it).
type Validator struct {
	mu        sync.Mutex
	validator validator.Validator
	schemas   schema_validation.SchemaValidator
	// errorDetail and notFound are the document's ErrorDetail and NotFoundError schemas,
	// used for answers of operations the document does not list (405, unknown paths).
	errorDetail *base.Schema
	notFound    *base.Schema
	// unlisted are the Unlisted rules of New, with their schemas.
	unlisted []unlistedRule
}

// Unlisted accepts, for request paths under Prefix, answers of operations the document does
// not list (an unknown path, an unlisted method) in another API's error shape than DRF's:
// a status among Statuses with a body matching the component schema named Schema. The
// headless dialect's "not served" 404, 405 and 409 answers are such.
type Unlisted struct {
	Prefix   string
	Schema   string
	Statuses []int
}

type unlistedRule struct {
	Unlisted
	schema *base.Schema
}

// New parses doc (YAML or JSON), checks that it is a valid OpenAPI 3 document and builds a
// Validator for it. The document must define the component schemas ErrorDetail
// ({"detail": string}) and NotFoundError ({"detail": string, "url"?: string}).
// Formats (date-time, date, email, uri) are asserted, not just annotations. Each
// Unlisted rule's schema must be a component schema of the document too.
func New(doc []byte, unlisted ...Unlisted) (*Validator, error) {
	cfg := datamodel.NewDocumentConfiguration()
	// Build problems come back as errors; the default logger would also print them.
	cfg.Logger = slog.New(slog.DiscardHandler)
	d, err := libopenapi.NewDocumentWithConfiguration(doc, cfg)
	if err != nil {
		return nil, fmt.Errorf("oatest: parse document: %w", err)
	}
	model, err := d.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("oatest: build OpenAPI 3 model: %w", err)
	}
	opts := []config.Option{config.WithFormatAssertions()}
	v := validator.NewValidatorFromV3Model(&model.Model, opts...)
	v.SetDocument(d)
	if ok, verrs := v.ValidateDocument(); !ok {
		return nil, fmt.Errorf("oatest: invalid OpenAPI document:\n\t%s", strings.Join(describe(verrs), "\n\t"))
	}
	errorDetail, err := componentSchema(&model.Model, "ErrorDetail")
	if err != nil {
		return nil, err
	}
	notFound, err := componentSchema(&model.Model, "NotFoundError")
	if err != nil {
		return nil, err
	}
	rules := make([]unlistedRule, 0, len(unlisted))
	for _, u := range unlisted {
		s, err := componentSchema(&model.Model, u.Schema)
		if err != nil {
			return nil, err
		}
		rules = append(rules, unlistedRule{Unlisted: u, schema: s})
	}
	return &Validator{
		validator:   v,
		schemas:     schema_validation.NewSchemaValidator(opts...),
		errorDetail: errorDetail,
		notFound:    notFound,
		unlisted:    rules,
	}, nil
}

// MustLoad is New for package-level test variables: it panics if doc is not a valid
// document.
func MustLoad(doc []byte, unlisted ...Unlisted) *Validator {
	v, err := New(doc, unlisted...)
	if err != nil {
		panic(err)
	}
	return v
}

func componentSchema(doc *v3.Document, name string) (*base.Schema, error) {
	if doc.Components != nil && doc.Components.Schemas != nil {
		if proxy := doc.Components.Schemas.GetOrZero(name); proxy != nil {
			if s := proxy.Schema(); s != nil {
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("oatest: the document has no components.schemas.%s", name)
}

// Check fails t (with t.Errorf, so the test goes on) when res, the answer to req, does not
// match the document, listing every problem together with the method, path, status and
// body. req may be nil when res.Request is set (answers from an http.Client).
//
// res.Body is read and replaced by an unread copy, so the caller can still read it; the
// request body is never read. Answers from httptest.ResponseRecorder.Result and from a real
// http.Client work alike; only the URL path is matched against the document's paths (the
// host and the servers entry are ignored).
//
// Answers for an operation the document does not list are accepted only as DRF errors:
// 401 or 404 (ErrorDetail, NotFoundError) for an unknown path, and 401, 403 or 405
// (ErrorDetail; 405 also needs an Allow header) for an unlisted method of a known path.
func (v *Validator) Check(t testing.TB, req *http.Request, res *http.Response) {
	t.Helper()
	problems, body := v.check(req, res)
	if len(problems) == 0 {
		return
	}
	method, path := "?", "?"
	if req == nil && res != nil {
		req = res.Request
	}
	if req != nil && req.URL != nil {
		method, path = req.Method, req.URL.RequestURI()
	}
	status, contentType := 0, ""
	if res != nil {
		status, contentType = res.StatusCode, strings.Join(res.Header.Values("Content-Type"), ", ")
	}
	t.Errorf("OpenAPI: %s %s → %d does not match the document:\n\t- %s\n\tContent-Type: %q\n\tbody: %s",
		method, path, status, strings.Join(problems, "\n\t- "), contentType, quoteBody(body))
}

// Problems returns what Check would report for res, one message per problem, or nil when
// res matches the document. Like Check it leaves res.Body readable.
func (v *Validator) Problems(req *http.Request, res *http.Response) []string {
	problems, _ := v.check(req, res)
	return problems
}

func (v *Validator) check(req *http.Request, res *http.Response) ([]string, []byte) {
	if res == nil {
		return []string{"no response"}, nil
	}
	if req == nil {
		req = res.Request
	}
	if req == nil || req.URL == nil {
		return []string{"no request: pass it, or set res.Request"}, nil
	}

	var body []byte
	if res.Body != nil && res.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return []string{"reading the body: " + err.Error()}, body
		}
	}

	var problems []string
	problems = append(problems, checkContentType(res, body)...)

	// The validator sees copies: it never touches the caller's request (or its body), and
	// reads its own reader over the body.
	vreq := req.Clone(req.Context())
	vreq.Body, vreq.GetBody, vreq.ContentLength = http.NoBody, nil, 0
	vres := *res
	vres.Request = vreq
	vres.Body = io.NopCloser(bytes.NewReader(body))

	v.mu.Lock()
	defer v.mu.Unlock()
	ok, verrs := v.validator.ValidateHttpResponse(vreq, &vres)
	if ok {
		return problems, body
	}
	for _, e := range verrs {
		if !e.IsPathMissingError() && !e.IsOperationMissingError() {
			continue
		}
		for _, u := range v.unlisted {
			if strings.HasPrefix(req.URL.Path, u.Prefix) {
				return append(problems, v.checkUnlisted(res, body, u)...), body
			}
		}
		switch {
		case e.IsPathMissingError():
			return append(problems, v.checkUndocumented(res, body, "path", map[int]*base.Schema{
				http.StatusUnauthorized: v.errorDetail,
				http.StatusNotFound:     v.notFound,
			})...), body
		case e.IsOperationMissingError():
			return append(problems, v.checkUndocumented(res, body, "method", map[int]*base.Schema{
				http.StatusUnauthorized:     v.errorDetail,
				http.StatusForbidden:        v.errorDetail,
				http.StatusMethodNotAllowed: v.errorDetail,
			})...), body
		}
	}
	return append(problems, describe(verrs)...), body
}

// checkContentType enforces what the validator does not: a JSON answer's Content-Type is
// exactly application/json (the validator ignores parameters such as charset), and a 204
// has no body. Redirects may carry any body.
func checkContentType(res *http.Response, body []byte) []string {
	switch {
	case res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusNotModified:
		if len(body) > 0 {
			return []string{fmt.Sprintf("a %d answer must have no body", res.StatusCode)}
		}
		return nil
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return nil
	}
	got := res.Header.Values("Content-Type")
	if len(got) == 1 && got[0] == HTMLContentType {
		// A server-rendered page; the validator checks the document lists text/html.
		return nil
	}
	if len(got) != 1 || got[0] != JSONContentType {
		return []string{fmt.Sprintf("Content-Type must be exactly %q, got %q", JSONContentType, got)}
	}
	return nil
}

// checkUndocumented checks an answer for an operation the document does not list: only
// the statuses in allowed are accepted, each with a DRF error body.
func (v *Validator) checkUndocumented(res *http.Response, body []byte, what string, allowed map[int]*base.Schema) []string {
	schema, ok := allowed[res.StatusCode]
	if !ok {
		return []string{fmt.Sprintf("the %s is not in the document, and %d is not one of the error answers allowed then", what, res.StatusCode)}
	}
	var problems []string
	if _, verrs := v.schemas.ValidateSchemaBytesWithVersion(schema, body, 3.0); len(verrs) > 0 {
		problems = append(problems, describe(verrs)...)
	}
	switch res.StatusCode {
	case http.StatusMethodNotAllowed:
		if res.Header.Get("Allow") == "" {
			problems = append(problems, "a 405 answer must carry an Allow header")
		}
	case http.StatusUnauthorized:
		if res.Header.Get("WWW-Authenticate") == "" {
			problems = append(problems, "a 401 answer must carry a WWW-Authenticate header")
		}
	}
	return problems
}

// checkUnlisted checks an answer for an operation the document does not list against an
// Unlisted rule.
func (v *Validator) checkUnlisted(res *http.Response, body []byte, u unlistedRule) []string {
	if !slices.Contains(u.Statuses, res.StatusCode) {
		return []string{fmt.Sprintf("the operation is not in the document, and %d is not one of the answers allowed under %s then", res.StatusCode, u.Prefix)}
	}
	if _, verrs := v.schemas.ValidateSchemaBytesWithVersion(u.schema, body, 3.0); len(verrs) > 0 {
		return describe(verrs)
	}
	return nil
}

// describe turns validation errors into one line each, with every schema failure.
func describe(verrs []*vErrors.ValidationError) []string {
	out := make([]string, 0, len(verrs))
	for _, e := range verrs {
		if e == nil {
			continue
		}
		var b strings.Builder
		b.WriteString(e.Message)
		if e.Reason != "" {
			b.WriteString(": ")
			b.WriteString(e.Reason)
		}
		for _, f := range e.SchemaValidationErrors {
			b.WriteString("; ")
			if f.FieldPath != "" {
				b.WriteString(f.FieldPath)
				b.WriteString(": ")
			}
			b.WriteString(f.Reason)
		}
		if e.SpecLine > 0 {
			fmt.Fprintf(&b, " (document line %d)", e.SpecLine)
		}
		out = append(out, b.String())
	}
	if len(out) == 0 {
		out = append(out, "validation failed without a message")
	}
	return out
}

func quoteBody(body []byte) string {
	if len(body) == 0 {
		return "(empty)"
	}
	if len(body) > maxBodyInMessage {
		return string(body[:maxBodyInMessage]) + fmt.Sprintf("… (%d bytes in all)", len(body))
	}
	return string(body)
}
