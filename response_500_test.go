package restauth

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/restauth/restauth/internal/drf"
	"github.com/restauth/restauth/internal/oatest"
)

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
			drf.WriteJSON(rec, http.StatusOK, v)
			if rec.Code != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", rec.Code)
			}
			if got := rec.Header().Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
				t.Errorf("Content-Type %q", got)
			}
			if got, want := rec.Body.String(), string(drf.ServerErrorJSON("")); got != want {
				t.Errorf("body %s, want %s", got, want)
			}
			// The documented 500 answer, even without the path.
			oatest.MustLoad(OpenAPI()).Check(t, httptest.NewRequest(http.MethodGet, "/api/auth/user/", nil), rec.Result())
		})
	}
}
