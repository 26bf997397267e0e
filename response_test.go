package restauth

import (
	"encoding/json"
	"testing"

	"github.com/restauth/restauth/internal/drf"
)

// FuzzAppendUserDetails holds the hand-written encoder of the hot path byte-equal to
// encoding/json for any field values.
func FuzzAppendUserDetails(f *testing.F) {
	for _, s := range []string{"bob", "", `"quoted" \ back`, "<script>&", "tab\tnew\nline\r\b\f\x00\x1f", "\u2028\u2029", "\xff\xfe invalid", "émoji 🎉", "a\u007fb"} {
		f.Add(int64(42), s, s+"@example.com", s, s)
	}
	f.Fuzz(func(t *testing.T, id int64, username, email, first, last string) {
		u := &User{ID: id, Username: username, Email: email, FirstName: first, LastName: last}
		want, err := drf.MarshalJSON(userDetails(u))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendUserDetails(nil, u); string(got) != string(want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}

// BenchmarkUserDetailsJSON compares the hot path's hand-written encoder with encoding/json.
func BenchmarkUserDetailsJSON(b *testing.B) {
	u := &User{ID: 42, Username: "bench", Email: "bench@example.com", FirstName: "Ada", LastName: "Lovelace"}
	b.Run("appendUserDetails", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 128)
		for b.Loop() {
			buf = appendUserDetails(buf[:0], u)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(userDetails(u)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
