package validate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzValidators: the username and address checks never panic and accept only what the
// schema allows.
func FuzzValidators(f *testing.F) {
	for _, seed := range []string{"bob", "a.b@c+d-e_f", "ünïcode", "user@example.com", `"quoted"@example.com`, "a@[127.0.0.1]", "a@b", "a@xn--bcher-kva.ch", "a@bücher.ch", "@", "a@@b.c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Username(s) && (s == "" || strings.ContainsAny(s, " /\\<>\"'")) {
			t.Fatalf("username %q accepted", s)
		}
		if Email(s) && (!strings.Contains(s, "@") || strings.ContainsAny(s, "\r\n")) {
			t.Fatalf("address %q accepted", s)
		}
	})
}

func TestNormalizeUsername(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"jess", "jess"},
		{"ｊｅｓｓ", "jess"},            // full-width
		{"\ufb01le", "file"},        // ligature fi
		{"\u212aim", "Kim"},         // Kelvin sign
		{"x\u00b2", "x2"},           // superscript two
		{"cafe\u0301", "caf\u00e9"}, // decomposed accent composed
		{"Ω\u2126", "ΩΩ"},           // Ohm sign
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, NormalizeUsername(tt.in), "%q", tt.in)
	}
}
