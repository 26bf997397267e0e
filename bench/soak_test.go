package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSoakSmall runs a tiny soak on both stores (a few clients for a moment, default
// argon2id) and insists it passes: every step answered as expected and the store holds
// exactly the accounts that got 201.
func TestSoakSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with argon2id defaults")
	}
	for _, store := range []string{"mem", "sqlite"} {
		t.Run(store, func(t *testing.T) {
			o, err := parseFlags([]string{"-soak", "-soak-c", "4", "-soak-d", "1s", "-soak-store", store}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := runSoak(context.Background(), o, &out, func(string, ...any) {}); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "soak PASSED") {
				t.Errorf("no PASSED line:\n%s", out.String())
			}
		})
	}
}

// TestSoakFlags checks the soak's flag bounds.
func TestSoakFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.soak || o.soakConc != 200 || o.soakDur != 20*time.Second || o.soakStore != "sqlite" {
		t.Errorf("soak defaults: %+v", o)
	}
	for _, args := range [][]string{{"-soak-c", "0"}, {"-soak-d", "0s"}, {"-soak-d", "1h"}, {"-soak-store", "pg"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}
