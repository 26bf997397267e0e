package restauth

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/restauth/restauth/internal/oatest"
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
		want, err := marshalJSON(serverErrorFields{
			Error:      "ServerError",
			ErrorClass: "<class 'restauth.ServerError'>",
			Detail:     "Error details can be found in the server log",
			Path:       path,
			StatusCode: http.StatusInternalServerError,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := serverErrorJSON(path); string(got) != string(want) {
			t.Errorf("serverErrorJSON(%q)\n got  %s\n want %s", path, got, want)
		}
	}
}

// TestWriteJSONMarshalFailure: a value encoding/json cannot encode is answered with the
// 500 body (path unknown there), never with a partial body or the encoder's error.
func TestWriteJSONMarshalFailure(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]any{
		"NaN":     struct{ F float64 }{math.NaN()},
		"channel": map[string]any{"c": make(chan int)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			writeJSON(rec, http.StatusOK, v)
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", rec.Code)
			}
			if got := rec.Header().Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			if got, want := rec.Body.String(), string(serverErrorJSON("")); got != want {
				t.Errorf("body %s, want %s", got, want)
			}
			// The documented 500 answer, even without the path.
			oatest.MustLoad(OpenAPI()).Check(t, httptest.NewRequest(http.MethodGet, "/api/auth/user/", nil), rec.Result())
		})
	}
}
