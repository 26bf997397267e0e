package drf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/restauth/restauth/internal/jsonenc"
)

// Detail is DRF's {"detail": …}.
type Detail struct {
	Detail string `json:"detail"`
}

// WriteJSON answers with v as JSON and a Content-Type of exactly "application/json":
// InvenTree's Python client refuses any parameter after it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := MarshalJSON(v)
	if err != nil {
		// Only the dialect's own response types reach here, so a marshal failure is a
		// programming error. It is answered like any other server error, but without the
		// request at hand: the path is unknown, and the error goes to the default logger.
		slog.Default().Error("restauth: encoding a response failed",
			"status", status, "type", fmt.Sprintf("%T", v), "error", err)
		status, body = http.StatusInternalServerError, ServerErrorJSON("")
	}
	WriteRaw(w, status, body)
}

// MarshalJSON encodes v as DRF's JSONRenderer does: like json.Marshal but without HTML
// escaping, so "&" in a pagination link or "<" in a name come out as they are.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// The values of the 500 answer. InvenTree's exception handler names the Python exception
// and says where its details are; restauth names no Go error (its text may hold SQL or
// secrets) and logs it instead.
const (
	serverErrorName   = "ServerError"
	serverErrorClass  = "<class 'restauth.ServerError'>"
	serverErrorDetail = "Error details can be found in the server log"
)

// ServerErrorJSON is InvenTree's answer to an unhandled exception, with restauth's own
// values: {"error", "error_class", "detail", "path", "status_code": 500}. It is built by
// hand, byte-equal to encoding/json, so it cannot fail and WriteJSON can fall back on it.
func ServerErrorJSON(path string) []byte {
	b := make([]byte, 0, 160+len(path))
	b = append(b, `{"error":`...)
	b = jsonenc.AppendString(b, serverErrorName)
	b = append(b, `,"error_class":`...)
	b = jsonenc.AppendString(b, serverErrorClass)
	b = append(b, `,"detail":`...)
	b = jsonenc.AppendString(b, serverErrorDetail)
	b = append(b, `,"path":`...)
	b = jsonenc.AppendString(b, path)
	b = append(b, `,"status_code":500}`...)
	return b
}

// jsonContentType is shared by every answer: assigning it costs no allocation, and
// nothing appends to a header value in place.
var jsonContentType = []string{"application/json"}

// WriteRaw writes a JSON body in one Write, so net/http sets Content-Length itself.
func WriteRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteDetail answers {"detail": detail}.
func WriteDetail(w http.ResponseWriter, status int, detail string) {
	WriteJSON(w, status, Detail{detail})
}

// ThrottledDetail is DRF's Throttled message, singular for one second (ngettext).
func ThrottledDetail(wait int) string {
	unit := " seconds."
	if wait == 1 {
		unit = " second."
	}
	return "Request was throttled. Expected available in " + strconv.Itoa(wait) + unit
}

// page is DRF's LimitOffsetPagination envelope.
type page[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// WriteList answers a list the way DRF's LimitOffsetPagination does with PAGE_SIZE unset:
// a bare array unless a positive limit is given, then {count,next,previous,results} with
// absolute next/previous URLs.
func WriteList[T any](w http.ResponseWriter, r *http.Request, items []T) {
	if items == nil {
		items = []T{}
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		WriteJSON(w, http.StatusOK, items)
		return
	}
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	count := len(items)
	p := page[T]{Count: count, Results: []T{}}
	if offset < count {
		end := count
		if limit < count-offset { // compared this way round so a huge limit cannot overflow
			end = offset + limit
		}
		p.Results = items[offset:end]
	}
	if offset < count && limit < count-offset {
		next := pageURL(r, limit, offset+limit, true)
		p.Next = &next
	}
	if offset > 0 {
		prevOffset := offset - limit
		prev := pageURL(r, limit, max(prevOffset, 0), prevOffset > 0)
		p.Previous = &prev
	}
	WriteJSON(w, http.StatusOK, p)
}

// pageURL is the request's absolute URL with limit and offset replaced; DRF removes offset
// from the link to the first page.
func pageURL(r *http.Request, limit, offset int, withOffset bool) string {
	u := AbsoluteURL(r)
	q := u.Query()
	q.Set("limit", strconv.Itoa(limit))
	if withOffset {
		q.Set("offset", strconv.Itoa(offset))
	} else {
		q.Del("offset")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// AbsoluteURL is the URL the client asked for, as Django's build_absolute_uri sees it. It
// is used for 404 bodies and pagination links only — never for links sent by e-mail.
func AbsoluteURL(r *http.Request) *url.URL {
	u, err := url.ParseRequestURI(r.RequestURI)
	if r.RequestURI == "" || err != nil {
		copied := *r.URL
		u = &copied
	}
	u.Scheme = "http"
	if r.TLS != nil {
		u.Scheme = "https"
	}
	u.Host = r.Host
	return u
}
