package validate

import (
	"strings"
	"testing"
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
