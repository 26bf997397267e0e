package headless

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// answer is one headless answer: allauth's envelope {status, data, meta} or, for a 400,
// {status, errors}. Every answer is JSON, errors and logout included: allauth's
// single-page client branches on the body's status.
type answer struct {
	status int
	data   any
	meta   map[string]any
	errors []apiError
	// retryAfter is the Retry-After of a 429, in seconds.
	retryAfter int
}

// apiError is one entry of a 400's errors: allauth's code, the input it concerns (param,
// may be empty) and the English message.
type apiError struct {
	Code    string `json:"code"`
	Param   string `json:"param,omitempty"`
	Message string `json:"message"`
}

// envelope is the JSON of an answer.
type envelope struct {
	Status int            `json:"status"`
	Data   any            `json:"data,omitempty"`
	Meta   map[string]any `json:"meta,omitempty"`
	Errors []apiError     `json:"errors,omitempty"`
}

func ok(data any) *answer { return &answer{status: http.StatusOK, data: data} }

func statusOnly(status int) *answer { return &answer{status: status} }

func badRequest(errs ...apiError) *answer {
	return &answer{status: http.StatusBadRequest, errors: errs}
}

// writeAnswer writes a as JSON with its status.
func writeAnswer(w http.ResponseWriter, a *answer) {
	body, err := json.Marshal(envelope{Status: a.status, Data: a.data, Meta: a.meta, Errors: a.errors})
	if err != nil {
		a, body = statusOnly(http.StatusInternalServerError), []byte(`{"status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}
