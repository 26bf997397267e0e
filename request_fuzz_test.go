package restauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeBody feeds arbitrary bodies under each media type the API parses: decoding and
// reading fields must never panic, and every failure must be a 4xx the handler can answer.
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []struct{ ct, body string }{
		{"application/json", `{"username": "a", "password": "b"}`},
		{"application/json", `{"username": null, "password": 1e999}`},
		{"application/json", `{"a": "\ud800"}`},
		{"application/json", `[1, 2]`},
		{"application/json", `{"a": {"b": [true]}, "a": "again"}`},
		{"application/json; charset=utf-8", "{\"password\": \"x\u0000y\"}"},
		{"application/x-www-form-urlencoded", "username=a&password=%ZZ"},
		{"application/x-www-form-urlencoded", "username=%00&password=b&password=c"},
		{"multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbob\r\n--X--\r\n"},
		{"multipart/form-data", "--X"},
		{"text/plain", "username=a"},
		{"", "{}"},
	} {
		f.Add(seed.ct, seed.body)
	}
	s := &Service{cfg: Config{MaxBodyBytes: 1 << 16}}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest(http.MethodPost, "/api/auth/login/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		form, err := s.decodeBody(httptest.NewRecorder(), r)
		if err != nil {
			switch e := err.(type) {
			case *requestError:
				if e.status < 400 || e.status > 499 {
					t.Fatalf("status %d for a decoding failure", e.status)
				}
			case *ValidationError:
			default:
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		var errs ValidationError
		for _, name := range []string{"username", "password", "email", "a"} {
			v, _ := form.Char(errs.drfFields(), charField{Name: name, MaxLen: 150, Email: name == "email"})
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				t.Fatalf("field %s read as %q", name, v)
			}
		}
		form.Integer(errs.drfFields(), "user")
		form.Boolean("mfa")
	})
}

// FuzzSplitAuthorization checks the header parser on arbitrary input.
func FuzzSplitAuthorization(f *testing.F) {
	for _, seed := range []string{"Token abc", "token  abc  ", "Basic", "Basic a b", "\tToken\tx", "Bearer", "", " ", "Token \u00a0x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		scheme, cred, extra := splitAuthorization(header)
		if strings.ContainsAny(scheme, asciiSpace) || strings.ContainsAny(cred, asciiSpace) {
			t.Fatalf("whitespace left in %q / %q", scheme, cred)
		}
		if extra && cred == "" {
			t.Fatalf("extra parts without credentials for %q", header)
		}
		if len(scheme)+len(cred) > len(header) {
			t.Fatalf("parts longer than the header %q", header)
		}
	})
}
