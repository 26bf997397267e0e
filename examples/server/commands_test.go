package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs the server's command line in-process and returns its exit status and output.
func runCLI(t *testing.T, ctx context.Context, args []string, stdin string, getenv func(string) string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = exitCode(run(ctx, args, strings.NewReader(stdin), &out, &errOut, getenv), &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpAndUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		args     []string
		code     int
		usageOut bool // the whole usage on stdout (help) rather than stderr (a mistake)
		message  string
	}{
		{name: "help", args: []string{"-help"}, code: 0, usageOut: true},
		{name: "h", args: []string{"-h"}, code: 0, usageOut: true},
		{name: "unknown flag", args: []string{"-bogus"}, code: 2, message: "flag provided but not defined: -bogus"},
		{name: "unknown command", args: []string{"-store", "memory", "frobnicate"}, code: 2, message: `unknown command "frobnicate"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runCLI(t, context.Background(), tt.args, "", testEnv)
			assert.Equal(t, tt.code, code)
			usage, other := stderr, stdout
			if tt.usageOut {
				usage, other = stdout, stderr
			}
			assert.Empty(t, other)
			assert.Contains(t, usage, tt.message)
			require.Contains(t, usage, "usage: server [flags] [command [arguments]]")
			for _, c := range commands {
				line := strings.TrimSpace(c.name + " " + c.synopsis)
				assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(line)+` +`+regexp.QuoteMeta(c.summary)+`$`, usage, "one line for %s", c.name)
			}
			for _, flag := range []string{"-addr", "-store", "-db", "-mfa", "-shutdown-grace"} {
				assert.Regexp(t, `(?m)^  `+flag+`( |$)`, usage, "the flags are listed")
			}
		})
	}
	names := map[string]bool{}
	for _, c := range commands {
		names[c.name] = true
	}
	for _, want := range []string{"serve", "createuser", "token", "mfa-reset", "deactivate", "delete", "revoke"} {
		assert.True(t, names[want], "the usage lists %s", want)
	}
}

func TestCommandHelpAndMistakes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args    []string
		code    int
		message string
	}{
		{[]string{"createuser", "-help"}, 0, "usage: server [flags] createuser -username U [-email E]"},
		{[]string{"token", "-h"}, 0, "usage: server [flags] token USER [-name N]"},
		{[]string{"delete", "-help"}, 0, "usage: server [flags] delete USER"},
		{[]string{"createuser"}, 2, "createuser needs -username"},
		{[]string{"createuser", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"token"}, 2, "token needs the user name first"},
		{[]string{"revoke"}, 2, "revoke takes one argument, the user name"},
		{[]string{"deactivate", "a", "b"}, 2, "deactivate takes one argument, the user name"},
		{[]string{"serve", "extra"}, 2, "serve takes no arguments"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			// No -db: a mistake is found before the default ./restauth.db would be opened.
			code, stdout, stderr := runCLI(t, context.Background(), tt.args, "", testEnv)
			assert.Equal(t, tt.code, code)
			if tt.code == 0 {
				assert.Contains(t, stdout, tt.message)
				assert.Empty(t, stderr)
			} else {
				assert.Contains(t, stderr, tt.message)
				assert.Contains(t, stderr, "usage: server [flags] "+tt.args[0])
				assert.Empty(t, stdout)
			}
		})
	}
}

func TestAdminErrorsAreSentences(t *testing.T) {
	t.Parallel()
	db := t.TempDir() + "/restauth.db"
	for _, tt := range []struct {
		name  string
		args  []string
		stdin string
		lines []string
	}{
		{name: "weak password", args: []string{"createuser", "-username", "weak"}, stdin: "123\n", lines: []string{
			"server: createuser: the password is refused: This password is too short. It must contain at least 8 characters.",
			"server: createuser: the password is refused: This password is too common.",
			"server: createuser: the password is refused: This password is entirely numeric.",
		}},
		{name: "every field", args: []string{"createuser", "-username", "bad name!", "-email", "nowhere"}, stdin: "a-long-passphrase\n", lines: []string{
			"server: createuser: the user name is refused: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
			"server: createuser: the e-mail address is refused: Enter a valid email address.",
		}},
		{name: "unknown user", args: []string{"revoke", "nobody"}, lines: []string{`server: revoke: there is no user "nobody".`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, context.Background(), append([]string{"-db", db}, tt.args...), tt.stdin, testEnv)
			assert.Equal(t, 1, code)
			assert.NotContains(t, stderr, "map[")
			assert.Equal(t, tt.lines, errorLines(stderr))
		})
	}
}

// errorLines are the "server:" lines of stderr, without the log lines.
func errorLines(stderr string) []string {
	var lines []string
	for line := range strings.SplitSeq(stderr, "\n") {
		if strings.HasPrefix(line, "server: ") {
			lines = append(lines, line)
		}
	}
	return lines
}

func TestSecretWarningOnlyForServe(t *testing.T) {
	t.Parallel()
	const warning = "RESTAUTH_SECRET is not set"
	noSecret := env(map[string]string{"RESTAUTH_PASSWORD": "an-admin-passphrase"})
	db := t.TempDir() + "/restauth.db"
	// serve runs with a context already cancelled, so it shuts down as soon as it listens.
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	admin := context.Background()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		args []string
		warn bool
	}{
		{"serve", ended, []string{"-store", "memory", "-addr", "127.0.0.1:0", "serve"}, true},
		{"default command", ended, []string{"-store", "memory", "-addr", "127.0.0.1:0"}, true},
		{"createuser", admin, []string{"-db", db, "createuser", "-username", "admin"}, false},
		{"token", admin, []string{"-db", db, "token", "admin"}, false},
		{"mfa-reset", admin, []string{"-db", db, "mfa-reset", "admin"}, false},
		{"revoke", admin, []string{"-db", db, "revoke", "admin"}, false},
		{"deactivate", admin, []string{"-db", db, "deactivate", "admin"}, false},
		{"delete", admin, []string{"-db", db, "delete", "admin"}, false},
	} {
		// In order, not in parallel: the admin commands work on one user.
		code, _, stderr := runCLI(t, tt.ctx, tt.args, "", noSecret)
		require.Equal(t, 0, code, "%s: %s", tt.name, stderr)
		if tt.warn {
			assert.Contains(t, stderr, warning, tt.name)
		} else {
			assert.NotContains(t, stderr, warning, tt.name)
		}
	}
}

// TestAccountLifecycleCommands runs deactivate, delete and revoke against the SQLite store
// of a running server, as an administrator would after a compromise, and checks that the
// user's API token stops working at once.
func TestAccountLifecycleCommands(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		command string
		output  string
		// after checks the user's state on the server once the command ran.
		after func(t *testing.T, base, db string)
	}{
		{command: "deactivate", output: `Deactivated user "alice" (id 1): their logins, tokens and sessions are refused from now on; nothing is deleted.`,
			after: func(t *testing.T, base, _ string) {
				res, body := postJSON(t, base+"/api/auth/login/", map[string]any{"username": "alice", "password": "an-admin-passphrase"})
				assert.Equal(t, http.StatusBadRequest, res.StatusCode, "login refused: %v", body)
			}},
		{command: "delete", output: `Deleted user "alice" (id 1) with their e-mail addresses, API tokens, social accounts and MFA records.`,
			after: func(t *testing.T, _, db string) {
				code, _, stderr := runCLI(t, context.Background(), []string{"-db", db, "token", "alice"}, "", testEnv)
				assert.Equal(t, 1, code)
				assert.Equal(t, []string{`server: token: there is no user "alice".`}, errorLines(stderr), "the user is gone")
			}},
		{command: "revoke", output: `Revoked 2 API tokens of "alice" and ended every session they were logged into; their password is unchanged.`,
			after: func(t *testing.T, base, _ string) {
				res, body := postJSON(t, base+"/api/auth/login/", map[string]any{"username": "alice", "password": "an-admin-passphrase"})
				assert.Equal(t, http.StatusOK, res.StatusCode, "the password still logs in: %v", body)
			}},
	} {
		t.Run(tt.command, func(t *testing.T) {
			t.Parallel()
			db := t.TempDir() + "/restauth.db"
			withPassword := env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40), "RESTAUTH_PASSWORD": "an-admin-passphrase"})
			code, _, stderr := runCLI(t, context.Background(), []string{"-db", db, "createuser", "-username", "alice", "-email", "alice@example.com"}, "", withPassword)
			require.Equal(t, 0, code, stderr)
			var keys []string
			for _, name := range []string{"ci", "laptop"} {
				code, out, stderr := runCLI(t, context.Background(), []string{"-db", db, "token", "alice", "-name", name}, "", testEnv)
				require.Equal(t, 0, code, stderr)
				keys = append(keys, strings.TrimSpace(out))
			}
			base := startServer(t, "-db", db)
			for _, key := range keys {
				res, body := sendJSON(t, http.DefaultClient, http.MethodGet, base+"/api/user/me/", nil, key)
				require.Equal(t, http.StatusOK, res.StatusCode, body)
			}

			code, out, stderr := runCLI(t, context.Background(), []string{"-db", db, tt.command, "alice"}, "", testEnv)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, tt.output+"\n", out)
			for _, key := range keys {
				res, body := sendJSON(t, http.DefaultClient, http.MethodGet, base+"/api/user/me/", nil, key)
				assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the token is refused: %v", body)
			}
			tt.after(t, base, db)

			code, out, stderr = runCLI(t, context.Background(), []string{"-db", db, tt.command, "nobody"}, "", testEnv)
			assert.Equal(t, 1, code)
			assert.Empty(t, out)
			assert.Equal(t, []string{`server: ` + tt.command + `: there is no user "nobody".`}, errorLines(stderr))
		})
	}
}
