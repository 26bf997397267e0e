package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/sqlitestore"
)

// TestSessionModes: each -sessions mode puts the sessions where it says, and the cookie is
// Secure exactly when -site-url is https, whatever the scheme's case (restauth decides).
func TestSessionModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		store any
	}{
		{"memory store", []string{"-store", "memory"}, &memstore.MemStore{}},
		{"sqlite default", []string{"-db", "DB"}, &sqlitestore.SessionStore{}},
		{"sqlite store", []string{"-db", "DB", "-sessions", "store"}, &sqlitestore.SessionStore{}},
		{"sqlite memory", []string{"-db", "DB", "-sessions", "memory"}, &memstore.MemStore{}},
	} {
		for site, secure := range map[string]bool{
			"http://localhost:8000":    false,
			"https://auth.example.com": true,
			"HTTPS://auth.example.com": true,
		} {
			t.Run(tc.name+" "+site, func(t *testing.T) {
				t.Parallel()
				args := append([]string(nil), tc.args...)
				for i, a := range args {
					if a == "DB" {
						args[i] = t.TempDir() + "/restauth.db"
					}
				}
				o, _, err := parseFlags(append(args, "-site-url", site), io.Discard)
				require.NoError(t, err)
				a, err := openApp(context.Background(), o, slog.New(slog.NewTextHandler(io.Discard, nil)), testEnv)
				require.NoError(t, err)
				defer a.close()
				sm := a.svc.Sessions()
				assert.IsType(t, tc.store, sm.Store)
				assert.Equal(t, secure, sm.Cookie.Secure, "Secure exactly when the site is https")
			})
		}
	}

	o, _, err := parseFlags([]string{"-store", "memory", "-sessions", "store"}, io.Discard)
	require.NoError(t, err)
	_, err = openApp(context.Background(), o, slog.New(slog.NewTextHandler(io.Discard, nil)), testEnv)
	assert.ErrorContains(t, err, "cannot keep sessions")
}
