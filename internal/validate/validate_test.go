package validate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzValidators: the username and address checks never panic and accept only what the
// schema allows.
func FuzzValidators(f *testing.F) {
	for _, seed := range []string{"bob", "a.b@c+d-e_f", "ünïcode", "user@example.com", `"quoted"@example.com`, "a@[127.0.0.1]", "a@b", "a@xn--bcher-kva.ch", "a@bücher.ch", "@", "a@@b.c", "\"a\\\nb\"@example.com", "\"a\\\x00\"@example.com"} {
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

// TestEmailQuotedPairs: a quoted local part escapes only what Django's EmailValidator lets
// it escape ([\001-\011\013\014\016-\177]): never a line break or a NUL. An escaped CR/LF
// put a line break into an address the Service stores and hands to the Mailer as a
// recipient (a header in any mailer that writes it out), and an escaped NUL is text no
// store can hold.
func TestEmailQuotedPairs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{`"a\ b"@example.com`, true},
		{`"a\"b"@example.com`, true},
		{`"a\\b"@example.com`, true},
		{"\"a\\\tb\"@example.com", true},
		{"\"a\\\x7fb\"@example.com", true},
		{"\"a\\\r\\\nBcc: eve@evil.example\"@example.com", false},
		{"\"a\\\nb\"@example.com", false},
		{"\"a\\\rb\"@example.com", false},
		{"\"a\\\x00b\"@example.com", false},
		{"\"a\\\xc3\xa9\"@example.com", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Email(tt.in), "Email(%q)", tt.in)
		if Email(tt.in) {
			assert.True(t, Storable(tt.in), "%q", tt.in)
			assert.NotContains(t, tt.in, "\r")
			assert.NotContains(t, tt.in, "\n")
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
