package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var testEnv = env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40)})

// startServer runs the server with args on a loopback port until the test ends.
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	base, _ := startServerWith(t, testEnv, io.Discard, args...)
	return base
}

// startServerWith is startServer with its environment and log output; stop shuts the
// server down (the test's end does too), after which everything it logged is in logOut.
func startServerWith(t *testing.T, getenv func(string) string, logOut io.Writer, args ...string) (base string, stop func()) {
	t.Helper()
	o, _, err := parseFlags(args, io.Discard)
	require.NoError(t, err)
	logger := slog.New(slog.NewTextHandler(logOut, nil))
	a, err := openApp(context.Background(), o, logger, getenv)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, a, logger) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				assert.NoError(t, err, "graceful shutdown")
			case <-time.After(15 * time.Second):
				t.Error("server did not shut down")
			}
			a.close()
		})
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func postJSON(t *testing.T, url string, body any) (*http.Response, map[string]any) {
	t.Helper()
	return sendJSON(t, http.DefaultClient, http.MethodPost, url, body, "")
}

// sendJSON sends body as JSON (none when nil) with an optional token and decodes the
// answer; a 204 must have no body, and decodes to nil.
func sendJSON(t *testing.T, client *http.Client, method, url string, body any, token string) (*http.Response, map[string]any) {
	t.Helper()
	var rdr io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rdr = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rdr)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	if res.StatusCode == http.StatusNoContent {
		rest, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.Empty(t, rest, "a 204 has no body")
		return res, nil
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return res, out
}

func TestServerRoundTrip(t *testing.T) {
	base := startServer(t, "-store", "memory")

	res, err := http.Get(base + "/api/")
	require.NoError(t, err)
	var info map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&info))
	res.Body.Close()
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	assert.Equal(t, "InvenTree", info["server"], "InvenTree's clients look for it")
	assert.Equal(t, float64(291), info["apiVersion"])
	assert.Equal(t, "0.1.0", info["version"])

	res, err = http.Get(base + "/api/part/")
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&info))
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, "API endpoint not found", info["detail"])
	res, err = http.Get(base + "/auth/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "anonymous")

	res, body := postJSON(t, base+"/api/auth/registration/", map[string]any{
		"username": "walter", "email": "walter@example.com", "password1": "a-long-passphrase", "password2": "a-long-passphrase"})
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	res, body = postJSON(t, base+"/api/auth/login/", map[string]any{"username": "walter", "password": "a-long-passphrase"})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	key := body["key"].(string)

	req, err := http.NewRequest(http.MethodGet, base+"/api/user/me/", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Token "+key)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	req, err = http.NewRequest(http.MethodGet, base+"/auth/", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Token "+key)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "the token authenticates the auth_request check")
}

func TestCreateUserReadsPasswordFromEnvironmentOrStdin(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-store", "memory", "-registration=false", "createuser", "-username", "admin", "-email", "admin@example.com"},
		strings.NewReader(""), &out, io.Discard, env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40), "RESTAUTH_PASSWORD": "an-admin-passphrase"}))
	require.NoError(t, err)
	assert.Contains(t, out.String(), `Created user "admin"`)

	out.Reset()
	err = run(context.Background(), []string{"-store", "memory", "createuser", "-username", "admin2"},
		strings.NewReader("another-passphrase\n"), &out, io.Discard, testEnv)
	require.NoError(t, err)
	assert.Contains(t, out.String(), `Created user "admin2"`)

	err = run(context.Background(), []string{"-store", "memory", "createuser", "-username", "weak"},
		strings.NewReader("123\n"), io.Discard, io.Discard, testEnv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "too short")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-store", "nope"}, {"-smtp", "nohost"}, {"-sessions", "nowhere"}, {"-limiter", "nowhere"}, {"frobnicate"}} {
		err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard, testEnv)
		assert.Error(t, err, args)
	}
}

func TestAdminCommandsKeepAccountsInSQLite(t *testing.T) {
	db := t.TempDir() + "/restauth.db"
	withPassword := env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40), "RESTAUTH_PASSWORD": "an-admin-passphrase"})
	require.NoError(t, run(context.Background(), []string{"-db", db, "createuser", "-username", "root", "-email", "root@example.com"},
		strings.NewReader(""), io.Discard, io.Discard, withPassword))

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-db", db, "token", "root", "-name", "ci"}, strings.NewReader(""), &out, io.Discard, testEnv))
	key := strings.TrimSpace(out.String())
	assert.Regexp(t, `^inv-[0-9a-f]{40}-\d{8}$`, key)

	err := run(context.Background(), []string{"-db", db, "token", "nobody"}, strings.NewReader(""), io.Discard, io.Discard, testEnv)
	assert.ErrorContains(t, err, `no user "nobody"`)

	// A server started later on the same database accepts the token and the session store.
	base := startServer(t, "-db", db)
	req, err := http.NewRequest(http.MethodGet, base+"/api/user/me/", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Token "+key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var me map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&me))
	assert.Equal(t, "root", me["username"])
	assert.Equal(t, "root@example.com", me["email"])
}

// TestCreateUserStaffAndSuperuser: the first account of an InvenTree web UI needs roles,
// which by default only a superuser holds.
func TestCreateUserStaffAndSuperuser(t *testing.T) {
	db := t.TempDir() + "/restauth.db"
	withPassword := env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40), "RESTAUTH_PASSWORD": "an-admin-passphrase"})
	for _, tc := range []struct {
		username string
		flags    []string
		created  string
	}{
		{"plain", nil, `Created user "plain"`},
		{"keeper", []string{"-staff"}, `Created staff user "keeper"`},
		{"root", []string{"-superuser"}, `Created superuser "root"`},
		{"boss", []string{"-staff", "-superuser"}, `Created superuser "boss"`},
	} {
		var out bytes.Buffer
		args := append([]string{"-db", db, "createuser", "-username", tc.username}, tc.flags...)
		require.NoError(t, run(context.Background(), args, strings.NewReader(""), &out, io.Discard, withPassword))
		assert.Contains(t, out.String(), tc.created)
	}

	base := startServer(t, "-db", db)
	roles := func(username string) map[string]any {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+"/api/user/roles/", nil)
		require.NoError(t, err)
		req.SetBasicAuth(username, "an-admin-passphrase")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		return body
	}
	all := []any{"view", "add", "change", "delete"}
	for _, tc := range []struct {
		username         string
		staff, superuser bool
		admin            any
	}{
		{"plain", false, false, nil},
		{"keeper", true, false, nil},
		{"root", false, true, all},
		{"boss", true, true, all},
	} {
		body := roles(tc.username)
		assert.Equal(t, tc.staff, body["is_staff"], tc.username)
		assert.Equal(t, tc.superuser, body["is_superuser"], tc.username)
		require.IsType(t, map[string]any{}, body["roles"], tc.username)
		assert.Equal(t, tc.admin, body["roles"].(map[string]any)["admin"], tc.username)
	}
}
