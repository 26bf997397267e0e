package restauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/restauth/restauth/internal/jsonenc"
)

// detailBody is DRF's {"detail": …}.
type detailBody struct {
	Detail string `json:"detail"`
}

// writeJSON answers with v as JSON and a Content-Type of exactly "application/json":
// InvenTree's Python client refuses any parameter after it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshalJSON(v)
	if err != nil {
		// Only our own response types reach here, so a marshal failure is a programming
		// error. It is answered like any other server error, but without the request at
		// hand: the path is unknown, and the error goes to the default logger.
		slog.Default().Error("restauth: encoding a response failed",
			"status", status, "type", fmt.Sprintf("%T", v), "error", err)
		status, body = http.StatusInternalServerError, serverErrorJSON("")
	}
	writeRawJSON(w, status, body)
}

// marshalJSON encodes v as DRF's JSONRenderer does: like json.Marshal but without HTML
// escaping, so "&" in a pagination link or "<" in a name come out as they are.
func marshalJSON(v any) ([]byte, error) {
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

// serverErrorJSON is InvenTree's answer to an unhandled exception, with restauth's own
// values: {"error", "error_class", "detail", "path", "status_code": 500}. It is built by
// hand, byte-equal to encoding/json, so it cannot fail and writeJSON can fall back on it.
func serverErrorJSON(path string) []byte {
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

// writeRawJSON writes a JSON body in one Write, so net/http sets Content-Length itself.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, detailBody{detail})
}

// writeError maps a Service error to its DRF answer. Errors it does not know are logged
// and answered with InvenTree's 500 body (serverErrorJSON), never with their text.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		verr  *ValidationError
		aerr  *AuthError
		perr  *PermissionError
		terr  *ThrottledError
		rerr  *requestError
		cerr  *ConflictError
		mbErr *http.MaxBytesError
	)
	switch {
	case errors.As(err, &verr):
		writeRawJSON(w, http.StatusBadRequest, fieldErrorsJSON(verr.Fields))
	case errors.As(err, &rerr):
		writeDetail(w, rerr.status, rerr.detail)
	case errors.As(err, &aerr):
		w.Header().Set("WWW-Authenticate", aerr.Challenge)
		writeDetail(w, http.StatusUnauthorized, aerr.Detail)
	case errors.As(err, &perr):
		writeDetail(w, http.StatusForbidden, perr.Detail)
	case errors.As(err, &terr):
		w.Header().Set("Retry-After", strconv.Itoa(terr.RetryAfterSeconds))
		writeDetail(w, http.StatusTooManyRequests, throttledDetail(terr.RetryAfterSeconds))
	case errors.Is(err, ErrNotFound):
		writeDetail(w, http.StatusNotFound, msgNotFound)
	case errors.As(err, &cerr):
		// A conflict the Service did not turn into a field message: a race it lost.
		writeJSON(w, http.StatusBadRequest, map[string][]string{nonFieldErrors: {"The request conflicts with the current state. Please try again."}})
	case errors.As(err, &mbErr):
		writeDetail(w, http.StatusRequestEntityTooLarge, "Request body is too large.")
	case errors.Is(err, ErrBusy):
		// The hash queue is full: a second is long enough for it to drain.
		w.Header().Set("Retry-After", "1")
		writeDetail(w, http.StatusServiceUnavailable, msgServiceUnavailable)
	case errors.Is(err, ErrStoreTimeout) ||
		errors.Is(err, context.DeadlineExceeded) && errors.Is(context.Cause(r.Context()), ErrStoreTimeout):
		// Config.StoreTimeout passed (the cause tells it from a deadline of the client's or
		// the host's, answered below): the store is down or frozen, which the operator must
		// hear of, and the client may retry once it is back.
		s.log.ErrorContext(r.Context(), "restauth: store timeout", "method", r.Method, "path", logPath(r),
			"timeout", s.cfg.StoreTimeout, "error", err)
		w.Header().Set("Retry-After", sessionRetryAfter)
		writeDetail(w, http.StatusServiceUnavailable, msgServiceUnavailable)
	case r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
		// The client went away (e.g. while waiting for a hashing slot): nobody reads this.
		s.log.DebugContext(r.Context(), "restauth: request cancelled", "method", r.Method, "path", logPath(r))
		writeDetail(w, http.StatusServiceUnavailable, "Request cancelled.")
	default:
		s.log.ErrorContext(r.Context(), "restauth: request failed", "method", r.Method, "path", logPath(r), "error", err)
		writeRawJSON(w, http.StatusInternalServerError, serverErrorJSON(r.URL.Path))
	}
}

// logPath is the request's path as log lines name it: the matched route's pattern
// ("/api/auth/registration/account-confirm-email/{name}/"), else the path with every
// segment that could be a secret (one with a ':', as signed keys have, or over 40
// characters) replaced by "{…}". Paths can carry confirmation keys, and logs must not.
func logPath(r *http.Request) string {
	if c, ok := r.Context().Value(clientKey{}).(*call); ok && c.route != nil {
		return c.prefix + c.route.pattern
	}
	segs := strings.Split(r.URL.Path, "/")
	for i, seg := range segs {
		if strings.ContainsRune(seg, ':') || len(seg) > 40 {
			segs[i] = "{…}"
		}
	}
	return strings.Join(segs, "/")
}

// page is DRF's LimitOffsetPagination envelope.
type page[T any] struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// writeList answers a list the way DRF's LimitOffsetPagination does with PAGE_SIZE unset:
// a bare array unless a positive limit is given, then {count,next,previous,results} with
// absolute next/previous URLs.
func writeList[T any](w http.ResponseWriter, r *http.Request, items []T) {
	if items == nil {
		items = []T{}
	}
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		writeJSON(w, http.StatusOK, items)
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
	writeJSON(w, http.StatusOK, p)
}

// pageURL is the request's absolute URL with limit and offset replaced; DRF removes offset
// from the link to the first page.
func pageURL(r *http.Request, limit, offset int, withOffset bool) string {
	u := absoluteURL(r)
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

// jsonTime and jsonDate are the dialect's names for internal/jsonenc's time encodings,
// used as field types of the JSON shapes.
type (
	jsonTime = jsonenc.Time
	jsonDate = jsonenc.Date
)

// throttledDetail is DRF's Throttled message, singular for one second (ngettext).
func throttledDetail(wait int) string {
	unit := " seconds."
	if wait == 1 {
		unit = " second."
	}
	return "Request was throttled. Expected available in " + strconv.Itoa(wait) + unit
}
