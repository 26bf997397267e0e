package restauth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/restauth/restauth/internal/drf"
	"github.com/restauth/restauth/internal/jsonenc"
)

// writeDetail answers {"detail": detail} (internal/drf).
func writeDetail(w http.ResponseWriter, status int, detail string) {
	drf.WriteDetail(w, status, detail)
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
		drf.WriteRaw(w, http.StatusBadRequest, drf.FieldErrorsJSON(verr.Fields))
	case errors.As(err, &rerr):
		writeDetail(w, rerr.status, rerr.detail)
	case errors.As(err, &aerr):
		w.Header().Set("WWW-Authenticate", aerr.Challenge)
		writeDetail(w, http.StatusUnauthorized, aerr.Detail)
	case errors.As(err, &perr):
		writeDetail(w, http.StatusForbidden, perr.Detail)
	case errors.As(err, &terr):
		w.Header().Set("Retry-After", strconv.Itoa(terr.RetryAfterSeconds))
		writeDetail(w, http.StatusTooManyRequests, drf.ThrottledDetail(terr.RetryAfterSeconds))
	case errors.Is(err, ErrNotFound):
		writeDetail(w, http.StatusNotFound, msgNotFound)
	case errors.As(err, &cerr):
		// A conflict the Service did not turn into a field message: a race it lost.
		drf.WriteJSON(w, http.StatusBadRequest, map[string][]string{nonFieldErrors: {"The request conflicts with the current state. Please try again."}})
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
		drf.WriteRaw(w, http.StatusInternalServerError, drf.ServerErrorJSON(r.URL.Path))
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

// jsonTime and jsonDate are the dialect's names for internal/jsonenc's time encodings,
// used as field types of the JSON shapes.
type (
	jsonTime = jsonenc.Time
	jsonDate = jsonenc.Date
)
