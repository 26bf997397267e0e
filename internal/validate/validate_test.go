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
		if (Email(s) || Username(s)) && !Storable(s) {
			t.Fatalf("%q accepted, which no store can hold", s)
		}
	})
}

// TestStorable: text a store can hold is valid UTF-8 without NUL (PostgreSQL refuses
// both), and no address or username the validators accept is anything else.
func TestStorable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"ada@example.com", true},
		{"ünïcode", true},
		{"ada\x00", false},
		{"\x00", false},
		{"ada\xff", false},
		{"a@ex\xffample.com", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Storable(tt.in), "%q", tt.in)
		if !tt.want {
			assert.False(t, Email(tt.in), "Email(%q)", tt.in)
			assert.False(t, Username(tt.in), "Username(%q)", tt.in)
		}
	}
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
