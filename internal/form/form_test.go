package form

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decode(t testing.TB, contentType, body string, maxBytes int64) (*Body, error) {
	r := httptest.NewRequest(http.MethodPost, "/api/auth/login/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return Decode(httptest.NewRecorder(), r, maxBytes)
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ct, body string
		json           map[string]string // raw JSON members
		values         url.Values
	}{
		{"empty body", "", "", nil, nil},
		{"blank JSON body", "application/json", " \n", nil, nil},
		{"JSON object", "application/json", `{"username": "a", "n": 1}`, map[string]string{"username": `"a"`, "n": "1"}, nil},
		{"JSON with charset", "application/json; charset=utf-8", `{"a": null}`, map[string]string{"a": "null"}, nil},
		{"+json media type", "application/vnd.api+json", `{"a": true}`, map[string]string{"a": "true"}, nil},
		{"repeated key: last wins", "application/json", `{"a": 1, "a": "again"}`, map[string]string{"a": `"again"`}, nil},
		{"url-encoded", "application/x-www-form-urlencoded", "a=1&b=2&b=3", nil, url.Values{"a": {"1"}, "b": {"2", "3"}}},
		{"url-encoded invalid UTF-8 escapes", "application/x-www-form-urlencoded", "Ren%FF=x%FEy", nil, url.Values{"Ren\uFFFD": {"x\uFFFDy"}}},
		{"multipart", "multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n--X--\r\n", nil, url.Values{"username": {"bob"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := decode(t, tt.ct, tt.body, 1<<16)
			require.NoError(t, err)
			if tt.json == nil {
				assert.Nil(t, b.JSON)
			} else {
				got := map[string]string{}
				for k, v := range b.JSON {
					got[k] = string(v)
				}
				assert.Equal(t, tt.json, got)
			}
			assert.Equal(t, tt.values, b.Values)
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, ct, body string
		max            int64
		status         int
		detail         string
	}{
		{"too large", "application/json", `{"a": "0123456789"}`, 8, http.StatusRequestEntityTooLarge, "Request body is too large."},
		{"no content type", "", "{}", 1 << 16, http.StatusUnsupportedMediaType, `Unsupported media type "" in request.`},
		{"bad content type", "text/plain", "a=1", 1 << 16, http.StatusUnsupportedMediaType, `Unsupported media type "text/plain" in request.`},
		{"unparsable content type", "application/json; =", "{}", 1 << 16, http.StatusUnsupportedMediaType, `Unsupported media type "application/json; =" in request.`},
		{"JSON syntax", "application/json", `{"a": }`, 1 << 16, http.StatusBadRequest, "JSON parse error - invalid character '}' looking for beginning of value (char 7)"},
		{"JSON not UTF-8", "application/json", "{\"a\": \"\xff\"}", 1 << 16, http.StatusBadRequest, "JSON parse error - the body is not valid UTF-8."},
		{"form not UTF-8", "application/x-www-form-urlencoded", "a=\xff", 1 << 16, http.StatusBadRequest, "Form parse error - the body is not valid UTF-8."},
		{"form bad escape", "application/x-www-form-urlencoded", "a=%ZZ", 1 << 16, http.StatusBadRequest, `Form parse error - invalid URL escape "%ZZ"`},
		{"multipart without boundary", "multipart/form-data", "--X", 1 << 16, http.StatusBadRequest, "Multipart form parse error - no multipart boundary param in Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decode(t, tt.ct, tt.body, tt.max)
			var fe *Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.status, fe.Status)
			assert.Equal(t, tt.detail, fe.Detail)
			assert.Equal(t, tt.detail, fe.Error())
		})
	}
}

func TestDecodeNotObject(t *testing.T) {
	t.Parallel()
	for body, kind := range map[string]string{
		`[1, 2]`: "list", `"s"`: "str", `true`: "bool", `false`: "bool", `null`: "NoneType",
		`1.5`: "float", `1e3`: "float", `42`: "int", ` -7 `: "int",
	} {
		_, err := decode(t, "application/json", body, 1<<16)
		var no *NotObjectError
		require.ErrorAs(t, err, &no, body)
		assert.Equal(t, kind, no.Kind, body)
		assert.Equal(t, "Invalid data. Expected a dictionary, but got "+kind+".", no.Error())
	}
}

func TestJSONKind(t *testing.T) {
	t.Parallel()
	for v, kind := range map[string]string{
		"": "NoneType", "null": "NoneType", "[]": "list", `"x"`: "str", "true": "bool", "false": "bool",
		"0": "int", "-12": "int", "1.0": "float", "1E5": "float", "2e-3": "float",
	} {
		assert.Equal(t, kind, JSONKind([]byte(v)), "%q", v)
	}
}

// FuzzDecode: decoding never panics, every failure is a 4xx *Error or a *NotObjectError,
// and every value decoded from a form is valid UTF-8.
func FuzzDecode(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"username": "a", "password": "b"}`},
		{"application/json", `{"username": null, "password": 1e999}`},
		{"application/json", `{"a": "\ud800"}`},
		{"application/json", `[1, 2]`},
		{"application/x-www-form-urlencoded", "username=a&password=%ZZ"},
		{"application/x-www-form-urlencoded", "user%FFname=%00&password=b&password=c"},
		{"multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n--X--\r\n"},
		{"multipart/form-data", "--X"},
		{"text/plain", "username=a"},
		{"", "{}"},
	} {
		f.Add(seed.ct, seed.body)
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		b, err := decode(t, contentType, body, 1<<16)
		if err != nil {
			switch e := err.(type) {
			case *Error:
				if e.Status < 400 || e.Status > 499 {
					t.Fatalf("status %d for a decoding failure", e.Status)
				}
			case *NotObjectError:
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if b.JSON != nil && b.Values != nil {
			t.Fatal("both JSON members and form values")
		}
		for k, vs := range b.Values {
			for _, v := range append([]string{k}, vs...) {
				if !utf8.ValidString(v) {
					t.Fatalf("form value %q is not UTF-8", v)
				}
			}
		}
		for k, v := range b.JSON {
			if !utf8.ValidString(k) || !json.Valid(v) {
				t.Fatalf("member %q: %q", k, v)
			}
		}
	})
}
