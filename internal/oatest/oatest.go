// Package oatest checks, in tests, that HTTP answers match an OpenAPI 3 document: that
// the status code is documented for the operation, that the Content-Type is exactly
// application/json (InvenTree's Python client rejects anything else, even with a charset
// parameter) and that the body and the documented headers match the document.
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
// The engine is kin-openapi (github.com/getkin/kin-openapi), chosen over heavier
// validators because it compiles in a fraction of the time, and a cold test run compiles
// it (issue #18). This is the only non-test package allowed to import it.
package oatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// JSONContentType is the only Content-Type a JSON answer may carry.
const JSONContentType = "application/json"

// HTMLContentType is the Content-Type of the server-rendered pages (the e-mail
// confirmation page), documented as text/html.
const HTMLContentType = "text/html; charset=utf-8"

// maxBodyInMessage bounds how much of a body a failure message quotes.
const maxBodyInMessage = 4096

func init() {
	// Formats are asserted, not just annotations. kin-openapi checks date and date-time
	// itself; email and uri are defined here, as strictly as the answers need: a parseable
	// address, and an absolute URL (DRF's pagination links are absolute).
	openapi3.DefineStringFormatValidator("email", openapi3.NewCallbackValidator(func(v string) error {
		a, err := mail.ParseAddress(v)
		if err != nil || a.Address != v {
			return errors.New("not an e-mail address")
		}
		return nil
	}))
	openapi3.DefineStringFormatValidator("uri", openapi3.NewCallbackValidator(func(v string) error {
		u, err := url.Parse(v)
		if err != nil || !u.IsAbs() {
			return errors.New("not an absolute URI")
		}
		return nil
	}))
}

// Validator checks answers against one OpenAPI document. It is safe for concurrent use, so
// one Validator can serve every parallel test: the document and router are read-only once
// built.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	// errorDetail and notFound are the document's ErrorDetail and NotFoundError schemas,
	// used for answers of operations the document does not list (405, unknown paths).
	errorDetail *openapi3.Schema
	notFound    *openapi3.Schema
}

// New parses doc (YAML or JSON), checks that it is a valid OpenAPI 3 document and builds a
// Validator for it. The document must define the component schemas ErrorDetail
// ({"detail": string}) and NotFoundError ({"detail": string, "url"?: string}).
func New(doc []byte) (*Validator, error) {
	d, err := Parse(doc)
	if err != nil {
		return nil, err
	}
	if err := d.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("oatest: invalid OpenAPI document: %w", err)
	}
	v, err := newValidator(d)
	if err != nil {
		return nil, err
	}
	if v.errorDetail, err = componentSchema(d, "ErrorDetail"); err != nil {
		return nil, err
	}
	if v.notFound, err = componentSchema(d, "NotFoundError"); err != nil {
		return nil, err
	}
	return v, nil
}

// Parse parses doc (YAML or JSON) into kin-openapi's model and resolves its references,
// without checking it further; for tests that walk a document.
func Parse(doc []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, fmt.Errorf("oatest: parse document: %w", err)
	}
	if d.OpenAPI == "" || !strings.HasPrefix(d.OpenAPI, "3.") {
		return nil, fmt.Errorf("oatest: parse document: not an OpenAPI 3 document (openapi: %q)", d.OpenAPI)
	}
	return d, nil
}

// NewLenient builds a Validator for a document that is not the project's own (a
// reference specification): it is not checked against the OpenAPI meta-schema and needs
// no error schemas, so an answer for an operation it does not list is reported as such.
func NewLenient(doc []byte) (*Validator, error) {
	d, err := Parse(doc)
	if err != nil {
		return nil, err
	}
	// A reference document's examples and defaults are its authors' business.
	return newValidator(d, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation())
}

func newValidator(d *openapi3.T, opts ...openapi3.ValidationOption) (*Validator, error) {
	// Only the URL path is matched: the host and the servers entry are ignored.
	routed := *d
	routed.Servers = nil
	r, err := legacy.NewRouter(&routed, opts...)
	if err != nil {
		return nil, fmt.Errorf("oatest: invalid OpenAPI document: %w", err)
	}
	return &Validator{doc: d, router: r}, nil
}

// MustLoad is New for package-level test variables: it panics if doc is not a valid
// document.
func MustLoad(doc []byte) *Validator {
	v, err := New(doc)
	if err != nil {
		panic(err)
	}
	return v
}

func componentSchema(d *openapi3.T, name string) (*openapi3.Schema, error) {
	if d.Components == nil {
		return nil, fmt.Errorf("oatest: the document has no components.schemas.%s", name)
	}
	if s := d.Components.Schemas[name]; s != nil && s.Value != nil {
		return s.Value, nil
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

// Failure is one problem of an answer, for callers that excuse some of them (a
// reference specification's known gaps): Pointer is the JSON pointer of the failing value
// in the body ("" when the problem is not in the body), Reason what is wrong.
type Failure struct {
	Pointer string
	Reason  string
}

func (f Failure) String() string {
	if f.Pointer == "" {
		return f.Reason
	}
	return f.Pointer + ": " + f.Reason
}

// Undocumented is the Reason of the Failure for an answer whose path, method or status
// the document does not list.
const (
	UndocumentedPath   = "the path is not in the document"
	UndocumentedMethod = "the method is not in the document"
	UndocumentedStatus = "the status is not in the document"
)

// Failures is Problems for a document checked leniently (NewLenient): the schema
// problems one by one with their pointers, and the Undocumented reasons; the Content-Type
// rule applies as in Check. res.Body stays readable.
func (v *Validator) Failures(req *http.Request, res *http.Response) []Failure {
	fs, _ := v.failures(req, res)
	return fs
}

func (v *Validator) check(req *http.Request, res *http.Response) ([]string, []byte) {
	fs, body := v.failures(req, res)
	var problems []string
	for _, f := range fs {
		switch f.Reason {
		case UndocumentedPath:
			return append(problems, v.checkUndocumented(res, body, "path", map[int]*openapi3.Schema{
				http.StatusUnauthorized: v.errorDetail,
				http.StatusNotFound:     v.notFound,
			})...), body
		case UndocumentedMethod:
			return append(problems, v.checkUndocumented(res, body, "method", map[int]*openapi3.Schema{
				http.StatusUnauthorized:     v.errorDetail,
				http.StatusForbidden:        v.errorDetail,
				http.StatusMethodNotAllowed: v.errorDetail,
			})...), body
		case UndocumentedStatus:
			problems = append(problems, fmt.Sprintf("status %d is not documented for this operation", res.StatusCode))
		default:
			problems = append(problems, f.String())
		}
	}
	return problems, body
}

func (v *Validator) failures(req *http.Request, res *http.Response) ([]Failure, []byte) {
	if res == nil {
		return []Failure{{Reason: "no response"}}, nil
	}
	if req == nil {
		req = res.Request
	}
	if req == nil || req.URL == nil {
		return []Failure{{Reason: "no request: pass it, or set res.Request"}}, nil
	}

	var body []byte
	if res.Body != nil && res.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return []Failure{{Reason: "reading the body: " + err.Error()}}, body
		}
	}

	var fs []Failure
	for _, p := range checkContentType(res, body) {
		fs = append(fs, Failure{Reason: p})
	}

	// The validator sees a copy: it never touches the caller's request (or its body).
	vreq := req.Clone(context.Background())
	vreq.Body, vreq.GetBody, vreq.ContentLength = http.NoBody, nil, 0
	route, params, err := v.router.FindRoute(vreq)
	if err != nil {
		if v.pathKnown(vreq) {
			return append(fs, Failure{Reason: UndocumentedMethod}), body
		}
		return append(fs, Failure{Reason: UndocumentedPath}), body
	}
	documented := route.Operation.Responses.Status(res.StatusCode)
	if documented == nil {
		documented = route.Operation.Responses.Default()
	}
	if documented == nil {
		return append(fs, Failure{Reason: UndocumentedStatus}), body
	}
	// Redirects may carry any body (net/http writes a small HTML one).
	excludeBody := res.StatusCode >= 300 && res.StatusCode < 400
	if !excludeBody && res.Header.Get("Content-Type") == HTMLContentType {
		// A server-rendered page: the document must list text/html for this answer; its
		// markup is the page tests' business, not a schema's.
		if documented.Value == nil || documented.Value.Content.Get("text/html") == nil {
			return append(fs, Failure{Reason: "text/html is not documented for this answer"}), body
		}
		excludeBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: vreq, PathParams: params, Route: route,
		},
		Status:  res.StatusCode,
		Header:  res.Header,
		Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true, ExcludeResponseBody: excludeBody},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		fs = append(fs, flatten(err)...)
	}
	return fs, body
}

// pathKnown reports whether the document lists req's path for some other method: the
// router answers "path not found" for a templated path whose method is missing.
func (v *Validator) pathKnown(req *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodHead} {
		if m == req.Method {
			continue
		}
		other := req.Clone(context.Background())
		other.Method = m
		if _, _, err := v.router.FindRoute(other); err == nil {
			return true
		}
	}
	return false
}

// flatten turns kin-openapi's errors into one Failure per schema problem. A problem
// of a oneOf/anyOf stays one Failure at the alternatives' value, its reason naming what
// each alternative objected to.
func flatten(err error) []Failure {
	var out []Failure
	var walk func(error, string)
	walk = func(err error, prefix string) {
		var me openapi3.MultiError
		var se *openapi3.SchemaError
		var re *openapi3filter.ResponseError
		switch {
		case errors.As(err, &me) && len(me) > 0 && !isSchemaError(err):
			for _, e := range me {
				walk(e, prefix)
			}
		case errors.As(err, &se):
			reason := se.Reason
			if reason == "" {
				reason = fmt.Sprintf("does not match the schema's %q", se.SchemaField)
			}
			if se.Origin != nil {
				reason += ": " + strings.ReplaceAll(se.Origin.Error(), "\n", " ")
			}
			out = append(out, Failure{Pointer: "/" + strings.Join(se.JSONPointer(), "/"), Reason: prefix + reason})
		case errors.As(err, &re) && re.Err != nil && re.Reason != "":
			walk(re.Err, prefix+re.Reason+": ")
		default:
			out = append(out, Failure{Reason: prefix + err.Error()})
		}
	}
	walk(err, "")
	return out
}

// isSchemaError reports whether err itself (not an error it wraps) is a SchemaError.
func isSchemaError(err error) bool {
	_, ok := err.(*openapi3.SchemaError)
	return ok
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
func (v *Validator) checkUndocumented(res *http.Response, body []byte, what string, allowed map[int]*openapi3.Schema) []string {
	schema, ok := allowed[res.StatusCode]
	if !ok || schema == nil {
		return []string{fmt.Sprintf("the %s is not in the document, and %d is not one of the error answers allowed then", what, res.StatusCode)}
	}
	var problems []string
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		problems = append(problems, "the body is not JSON: "+err.Error())
	} else if err := schema.VisitJSON(value, openapi3.MultiErrors()); err != nil {
		for _, f := range flatten(err) {
			problems = append(problems, f.String())
		}
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

func quoteBody(body []byte) string {
	if len(body) == 0 {
		return "(empty)"
	}
	if len(body) > maxBodyInMessage {
		return string(body[:maxBodyInMessage]) + fmt.Sprintf("… (%d bytes in all)", len(body))
	}
	return string(body)
}
