package form

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingReader counts the bytes a decoder pulls from a body.
type countingReader struct {
	r    io.Reader
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

// TestDecodeRefusesByContentLength: a declared length over the limit is refused before
// anything is read, and the connection is not kept (the server would otherwise drain
// the body); an undeclared one is cut at the limit.
func TestDecodeRefusesByContentLength(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	for _, tt := range []struct {
		name          string
		contentLength int64
		maxRead       int64
		closes        bool
	}{
		{"declared over the limit", limit + 1, 0, true},
		{"declared far over the limit", 1 << 30, 0, true},
		{"undeclared (chunked)", -1, limit + 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := &countingReader{r: strings.NewReader(`{"a": "` + strings.Repeat("x", 4*limit) + `"}`)}
			r := httptest.NewRequest(http.MethodPost, "/api/auth/login/", body)
			r.ContentLength = tt.contentLength
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			_, err := Decode(w, r, limit)
			var fe *Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, http.StatusRequestEntityTooLarge, fe.Status)
			assert.Equal(t, "Request body is too large.", fe.Detail)
			assert.LessOrEqual(t, body.read, tt.maxRead, "bytes read")
			if tt.closes {
				assert.Equal(t, "close", w.Header().Get("Connection"))
			}
		})
	}
}

// TestReadBodyAllocatesOnce: with a known length the body costs one buffer of its size,
// not io.ReadAll's doublings.
func TestReadBodyAllocatesOnce(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 64<<10)
	rd := bytes.NewReader(data)
	var got []byte
	allocs := testing.AllocsPerRun(20, func() {
		rd.Reset(data)
		var err error
		got, err = readBody(rd, int64(len(data)))
		if err != nil {
			panic(err)
		}
	})
	assert.Equal(t, 1.0, allocs)
	assert.Equal(t, data, got)
	assert.LessOrEqual(t, cap(got), len(data)+1)

	rd.Reset(data)
	got, err := readBody(rd, -1) // unknown length: grows as io.ReadAll would
	require.NoError(t, err)
	assert.Equal(t, data, got)
}

// decodeJSONObjectBefore is decodeJSONObject as it was before it stopped copying the body
// into a json.RawMessage first; the new one must answer every input the same way.
func decodeJSONObjectBefore(body []byte) (*Body, error) {
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

var jsonSeeds = []string{
	`{"a": 1}`, `  {"a": }`, "\n\t{\"a\": \"b\"} x", `{"a": 1}{"b": 2}`, `{"a": 1, "a": 2}`, `{`, `}`,
	` [1, 2] `, `"s"`, `1.5`, `1e3`, ` -7 `, `null`, `nul`, `{"a": "\ud800"}`, `{"a": 1e999}`,
	`{"a":[1,{"b":null}]}`, `tru`, `{"a" 1}`, `  `, `{"\u00e9": true}`, "{\"a\": \"\xff\"}",
}

func checkSameAsBefore(t *testing.T, body string) {
	got, gotErr := decodeJSONObject([]byte(body))
	want, wantErr := decodeJSONObjectBefore([]byte(body))
	assert.Equal(t, wantErr, gotErr, "%q", body)
	assert.Equal(t, want, got, "%q", body)
}

func TestDecodeJSONObjectUnchanged(t *testing.T) {
	t.Parallel()
	for _, body := range jsonSeeds {
		if strings.TrimSpace(body) == "" {
			continue // Decode answers a blank body before it reaches the JSON decoder
		}
		checkSameAsBefore(t, body)
	}
}

func FuzzDecodeJSONObjectUnchanged(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if len(bytes.TrimSpace([]byte(body))) == 0 {
			return
		}
		checkSameAsBefore(t, body)
	})
}

// BenchmarkDecodeOversize prints what refusing an over-limit body costs: it reads no
// byte of it, whatever its size.
func BenchmarkDecodeOversize(b *testing.B) {
	payload := strings.Repeat("x", 8<<20)
	b.ReportAllocs()
	var read int64
	for b.Loop() {
		body := &countingReader{r: strings.NewReader(payload)}
		r := httptest.NewRequest(http.MethodPost, "/api/auth/login/", body)
		r.ContentLength = int64(len(payload))
		r.Header.Set("Content-Type", "application/json")
		if _, err := Decode(httptest.NewRecorder(), r, 1<<20); err == nil {
			b.Fatal("accepted")
		}
		read += body.read
	}
	b.ReportMetric(float64(read)/float64(b.N), "bytes-read/op")
}
