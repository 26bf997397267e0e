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
//
// A body whose Content-Length exceeds maxBytes is refused (413) before a byte of it is
// read, and the connection is closed rather than drained, so an oversized body costs
// neither memory nor bandwidth. Other bodies are read through http.MaxBytesReader into one
// buffer sized by Content-Length, and decoded from it without an intermediate copy; the
// decoded Body shares no memory with that buffer, which is garbage once Decode returns.
// (encoding/json's Decoder would buffer the whole value before decoding it anyway, and
// its errors differ from the ones DRF's texts are built on, so JSON is not stream-decoded.)
func Decode(w http.ResponseWriter, r *http.Request, maxBytes int64) (*Body, error) {
	if r.ContentLength > maxBytes {
		w.Header().Set("Connection", "close")
		return nil, errTooLarge()
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, maxBytes), r.ContentLength)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errTooLarge()
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

// errTooLarge is DRF's answer to a body over the limit.
func errTooLarge() *Error {
	return &Error{http.StatusRequestEntityTooLarge, "Request body is too large."}
}

// readBody is io.ReadAll with the buffer sized up front when the length is known
// (contentLength >= 0): one allocation of the body's size, instead of the doublings that
// leave io.ReadAll holding up to twice the body. The extra byte lets the read that meets
// EOF succeed without growing the buffer.
func readBody(r io.Reader, contentLength int64) ([]byte, error) {
	size := 512
	if contentLength >= 0 {
		size = int(contentLength) + 1
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append choose the growth
		}
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
// refuses it; when a key repeats, the last value wins, as in Python's json module. An
// object is decoded straight into its members: json.Unmarshal checks the whole input
// before decoding, so its syntax errors are the ones a decode into json.RawMessage gives,
// without copying the body first.
func decodeJSONObject(body []byte) (*Body, error) {
	if !utf8.Valid(body) {
		return nil, &Error{http.StatusBadRequest, "JSON parse error - the body is not valid UTF-8."}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil { // body, not trimmed: DRF's offsets count the white space
			return nil, &Error{http.StatusBadRequest, "JSON parse error - " + jsonErrorText(err)}
		}
		return &Body{JSON: obj}, nil
	}
	if err := json.Unmarshal(body, new(json.RawMessage)); err != nil {
		return nil, &Error{http.StatusBadRequest, "JSON parse error - " + jsonErrorText(err)}
	}
	return nil, &NotObjectError{Kind: JSONKind(trimmed)}
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
