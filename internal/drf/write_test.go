package drf

import (
	"net/http"
	"testing"
)

// serverErrorFields is the 500 body as encoding/json would write it.
type serverErrorFields struct {
	Error      string `json:"error"`
	ErrorClass string `json:"error_class"`
	Detail     string `json:"detail"`
	Path       string `json:"path"`
	StatusCode int    `json:"status_code"`
}

// TestServerErrorJSON holds the hand-built 500 body byte-equal to encoding/json, whatever
// the path holds.
func TestServerErrorJSON(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "/api/auth/login/", `/api/"quoted"\back/`, "/api/<script>&/", "/api/\u2028\xff/", "/api/émoji 🎉/"} {
		want, err := MarshalJSON(serverErrorFields{
			Error:      "ServerError",
			ErrorClass: "<class 'restauth.ServerError'>",
			Detail:     "Error details can be found in the server log",
			Path:       path,
			StatusCode: http.StatusInternalServerError,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := ServerErrorJSON(path); string(got) != string(want) {
			t.Errorf("ServerErrorJSON(%q)\n got  %s\n want %s", path, got, want)
		}
	}
}

func TestThrottledDetail(t *testing.T) {
	t.Parallel()
	for wait, want := range map[int]string{
		1:  "Request was throttled. Expected available in 1 second.",
		2:  "Request was throttled. Expected available in 2 seconds.",
		60: "Request was throttled. Expected available in 60 seconds.",
	} {
		if got := ThrottledDetail(wait); got != want {
			t.Errorf("ThrottledDetail(%d) = %q, want %q", wait, got, want)
		}
	}
}
