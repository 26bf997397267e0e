// Package form decodes request bodies the way Django REST framework's parsers read them:
// JSON objects, url-encoded and multipart forms, with DRF's error texts. Field rules
// (CharField, IntegerField, …) stay with the handlers that declare the fields.
package form

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Body is a decoded request body: the members of a JSON object (JSON), or form values
// (Values). An empty body has neither.
type Body struct {
	JSON   map[string]json.RawMessage
	Values url.Values
}

// Error is a problem with the body as a whole, which DRF answers with Status and
// {"detail": Detail}.
type Error struct {
	Status int
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// NotObjectError is a JSON body that parsed but is not an object; DRF answers it as a
// validation error of the whole body (non_field_errors) with Error's text.
type NotObjectError struct {
	// Kind is the Python type the value became, as JSONKind names it.
	Kind string
}

func (e *NotObjectError) Error() string {
	return "Invalid data. Expected a dictionary, but got " + e.Kind + "."
}

// maxMultipartMemory bounds what a multipart body may hold in memory; the body itself is
// already bounded by Decode's maxBytes.
const maxMultipartMemory = 1 << 20

// Decode reads r's body, at most maxBytes of it, according to its Content-Type: JSON
// (application/json and any +json type), application/x-www-form-urlencoded or
// multipart/form-data. An empty body is an empty form, as in DRF. Errors are an *Error or
// a *NotObjectError.
func Decode(w http.ResponseWriter, r *http.Request, maxBytes int64) (*Body, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &Error{http.StatusRequestEntityTooLarge, "Request body is too large."}
		}
		return nil, &Error{http.StatusBadRequest, "Could not read the request body."}
	}
	ct := r.Header.Get("Content-Type")
	if len(bytes.TrimSpace(body)) == 0 && !strings.HasPrefix(ct, "multipart/") {
		return &Body{}, nil
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return nil, &Error{http.StatusUnsupportedMediaType, fmt.Sprintf("Unsupported media type %q in request.", ct)}
	}
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		return decodeJSONObject(body)
	case mediaType == "application/x-www-form-urlencoded":
		if !utf8.Valid(body) {
			return nil, &Error{http.StatusBadRequest, "Form parse error - the body is not valid UTF-8."}
		}
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &Error{http.StatusBadRequest, "Form parse error - " + err.Error()}
		}
		return &Body{Values: validUTF8(values)}, nil
	case mediaType == "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Header.Set("Content-Type", mime.FormatMediaType(mediaType, params))
		if err := r.ParseMultipartForm(maxMultipartMemory); err != nil {
			return nil, &Error{http.StatusBadRequest, "Multipart form parse error - " + err.Error()}
		}
		// No route reads files. File parts past maxMultipartMemory went to temporary files,
		// which net/http removes only for the request it served, not for this copy.
		_ = r.MultipartForm.RemoveAll()
		return &Body{Values: validUTF8(url.Values(r.MultipartForm.Value))}, nil
	default:
		return nil, &Error{http.StatusUnsupportedMediaType, fmt.Sprintf("Unsupported media type %q in request.", ct)}
	}
}

// validUTF8 replaces invalid UTF-8 in form values (percent-encoding can carry any bytes)
// with U+FFFD, as Django decodes them: no store gets bytes it cannot hold.
func validUTF8(values url.Values) url.Values {
	for k, vs := range values {
		for i, v := range vs {
			vs[i] = strings.ToValidUTF8(v, "\uFFFD")
		}
		if fixed := strings.ToValidUTF8(k, "\uFFFD"); fixed != k {
			delete(values, k)
			values[fixed] = append(values[fixed], vs...)
		}
	}
	return values
}

// decodeJSONObject parses a JSON body. Anything but an object is refused the way DRF
// refuses it; when a key repeats, the last value wins, as in Python's json module.
func decodeJSONObject(body []byte) (*Body, error) {
	if !utf8.Valid(body) {
		return nil, &Error{http.StatusBadRequest, "JSON parse error - the body is not valid UTF-8."}
	}
	var raw json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, &Error{http.StatusBadRequest, "JSON parse error - " + jsonErrorText(err)}
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &NotObjectError{Kind: JSONKind(trimmed)}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return nil, &Error{http.StatusBadRequest, "JSON parse error - " + jsonErrorText(err)}
	}
	return &Body{JSON: obj}, nil
}

// jsonErrorText is a decoding error as DRF's "JSON parse error - …" carries it, with the
// offset of a syntax error.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (char %d)", syn.Error(), syn.Offset)
	}
	return err.Error()
}

// JSONKind names a JSON value's type the way DRF names the Python type it became: list,
// str, bool, NoneType (also for no value), float or int. v must be trimmed of white space.
func JSONKind(v []byte) string {
	if len(v) == 0 {
		return "NoneType"
	}
	switch v[0] {
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	default:
		if bytes.ContainsAny(v, ".eE") {
			return "float"
		}
		return "int"
	}
}
