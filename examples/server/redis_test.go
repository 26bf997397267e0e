package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth/internal/testcert"
	"github.com/restauth/restauth/redislimit"
)

// TestParseRedis: -redis takes a bare host:port as before, or a redis:// or rediss:// URL
// with a user, a password and a database; a value that is neither fails with the reason
// and the accepted forms, and never with the password in it.
func TestParseRedis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		wantAddr    string
		wantUser    string
		wantPass    string
		wantDB      int
		wantTLSHost string // "" for no TLS
		wantDisplay string
		wantErr     string
	}{
		{in: "127.0.0.1:6379", wantAddr: "127.0.0.1:6379", wantDisplay: "127.0.0.1:6379"},
		{in: "redis.internal:6380", wantAddr: "redis.internal:6380", wantDisplay: "redis.internal:6380"},
		{in: "[::1]:6379", wantAddr: "[::1]:6379", wantDisplay: "[::1]:6379"},
		{in: "redis://127.0.0.1:6380", wantAddr: "127.0.0.1:6380", wantDisplay: "redis://127.0.0.1:6380"},
		{in: "redis://cache.example.com", wantAddr: "cache.example.com:6379", wantDisplay: "redis://cache.example.com"},
		{in: "redis://:s3cret@h:1", wantAddr: "h:1", wantPass: "s3cret", wantDisplay: "redis://:xxxxx@h:1"},
		{in: "redis://alice:s3cret@h:1/2", wantAddr: "h:1", wantUser: "alice", wantPass: "s3cret", wantDB: 2, wantDisplay: "redis://alice:xxxxx@h:1/2"},
		{in: "redis://alice:p%40ss%3Aw@h:1", wantAddr: "h:1", wantUser: "alice", wantPass: "p@ss:w", wantDisplay: "redis://alice:xxxxx@h:1"},
		{in: "rediss://alice:s3cret@cache.example.com:6380/1", wantAddr: "cache.example.com:6380", wantUser: "alice", wantPass: "s3cret",
			wantDB: 1, wantTLSHost: "cache.example.com", wantDisplay: "rediss://alice:xxxxx@cache.example.com:6380/1"},
		{in: "rediss://cache.example.com", wantAddr: "cache.example.com:6379", wantTLSHost: "cache.example.com", wantDisplay: "rediss://cache.example.com"},

		{in: "localhost", wantErr: `"localhost" is not a Redis address: missing port in address`},
		{in: "", wantErr: "is not a Redis address"},
		{in: "http://:s3cret@h:1", wantErr: `http://:xxxxx@h:1: unknown scheme "http"`},
		{in: "unix://:s3cret@/tmp/redis.sock", wantErr: `unknown scheme "unix"`},
		{in: "redis://:s3cret@h:bad", wantErr: `not a Redis URL: invalid port ":bad" after host`},
		{in: "redis://:s3cret@h:1/db", wantErr: `redis://:xxxxx@h:1/db: invalid database number: "db"`},
		{in: "redis://:s3cret@h:1/1/2", wantErr: "redis://:xxxxx@h:1/1/2: invalid URL path"},
		{in: "redis://:s3cret@h:1?db=2", wantErr: "query parameters are not supported"},
		{in: "redis://s3cret@h:1", wantErr: "redis://h:1: a user name without a password; for a password alone write redis://:password@host:port"},
		{in: "redis://alice@h:1", wantErr: "redis://h:1: a user name without a password"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseRedis(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "s3cret", "the password stays out of the error")
				assert.Contains(t, err.Error(), "redis://[user:password@]host:port[/db]", "the error shows the accepted forms")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "tcp", got.opts.Network)
			assert.Equal(t, tt.wantAddr, got.opts.Addr)
			assert.Equal(t, tt.wantUser, got.opts.Username)
			assert.Equal(t, tt.wantPass, got.opts.Password)
			assert.Equal(t, tt.wantDB, got.opts.DB)
			assert.Equal(t, tt.wantDisplay, got.String())
			assert.NotContains(t, got.String(), "s3cret")
			if tt.wantTLSHost == "" {
				assert.Nil(t, got.opts.TLSConfig)
				return
			}
			require.NotNil(t, got.opts.TLSConfig)
			assert.Equal(t, tt.wantTLSHost, got.opts.TLSConfig.ServerName, "the server's name is checked")
			assert.False(t, got.opts.TLSConfig.InsecureSkipVerify)
			assert.Nil(t, got.opts.TLSConfig.RootCAs, "the system's roots")
		})
	}
}

// TestResolveRedis: an explicit -redis wins over $RESTAUTH_REDIS_URL, which wins over the
// default; Redis is parsed only when the sessions or the limiter use it, so a bad variable
// stops only a server that needs it, and its error names where the value came from.
func TestResolveRedis(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		envURL   string
		wantAddr string // "" for no Redis
		wantErr  string
	}{
		{"default", []string{"-sessions", "redis"}, "", "127.0.0.1:6379", ""},
		{"from the environment", []string{"-limiter", "redis"}, "redis://:pw@10.0.0.5:6380/1", "10.0.0.5:6380", ""},
		{"flag wins", []string{"-sessions", "redis", "-redis", "10.0.0.6:6379"}, "redis://:pw@10.0.0.5:6380", "10.0.0.6:6379", ""},
		{"implied by -store postgres", []string{"-store", "postgres"}, "redis://10.0.0.5:6380", "10.0.0.5:6380", ""},
		{"unused", []string{"-store", "memory"}, "redis://:s3cret@h:bad", "", ""},
		{"unused, -limiter memory", []string{"-store", "postgres", "-limiter", "memory"}, "redis://:s3cret@h:bad", "", ""},
		{"bad environment", []string{"-sessions", "redis"}, "redis://:s3cret@h:bad", "", "$RESTAUTH_REDIS_URL: not a Redis URL"},
		{"bad flag", []string{"-limiter", "redis", "-redis", "redis://:s3cret@h/x"}, "", "", `-redis: redis://:xxxxx@h/x: invalid database number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _, err := parseFlags(tt.args, io.Discard)
			require.NoError(t, err)
			got, err := openRedis(o, env(map[string]string{redisURLEnv: tt.envURL}))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "s3cret")
				return
			}
			require.NoError(t, err)
			if tt.wantAddr == "" {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, tt.wantAddr, got.opts.Addr)
		})
	}
}

// TestRedisStartupErrorsRedactPassword: a server that cannot reach its Redis, or is given
// a bad URL, refuses to start with the address in the error, its password redacted, for
// the sessions and for the limiter alike.
func TestRedisStartupErrorsRedactPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		url     string
		wantErr string
	}{
		{"sessions", []string{"-store", "memory", "-sessions", "redis", "-limiter", "memory"}, "redis://:s3cret@127.0.0.1:1/0",
			"redis at redis://:xxxxx@127.0.0.1:1/0"},
		{"limiter", []string{"-store", "memory", "-limiter", "redis"}, "redis://alice:s3cret@127.0.0.1:1",
			"-limiter redis: redis at redis://alice:xxxxx@127.0.0.1:1"},
		{"bad URL", []string{"-store", "memory", "-limiter", "redis"}, "redis://alice:s3cret@127.0.0.1:6379?dial_timeout=1s",
			"$RESTAUTH_REDIS_URL: redis://alice:xxxxx@127.0.0.1:6379?dial_timeout=1s: query parameters are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40), redisURLEnv: tt.url})
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, strings.NewReader(""), io.Discard, &stderr, getenv)
			require.ErrorContains(t, err, tt.wantErr)
			assert.Equal(t, 1, exitCode(err, &stderr))
			assert.Contains(t, stderr.String(), "server: ")
			assert.NotContains(t, err.Error()+stderr.String(), "s3cret", "the password is in neither the error nor the log")
		})
	}
}

// TestRedisLimiterClientMatchesNewClient: the limiter's client keeps redislimit.NewClient's
// timeouts and retries (an outage costs one timeout) and adds the URL's credentials.
func TestRedisLimiterClientMatchesNewClient(t *testing.T) {
	t.Parallel()
	target, err := parseRedis("rediss://alice:pw@cache.example.com:6380/3")
	require.NoError(t, err)
	got := target.limiterClient()
	defer got.Close()
	want := redislimit.NewClient("cache.example.com:6380")
	defer want.Close()
	g, w := got.Options(), want.Options()
	assert.Equal(t, w.Addr, g.Addr)
	assert.Equal(t, w.DialTimeout, g.DialTimeout)
	assert.Equal(t, w.ReadTimeout, g.ReadTimeout)
	assert.Equal(t, w.WriteTimeout, g.WriteTimeout)
	assert.Equal(t, w.PoolTimeout, g.PoolTimeout)
	assert.Equal(t, w.ContextTimeoutEnabled, g.ContextTimeoutEnabled)
	assert.Equal(t, w.MaxRetries, g.MaxRetries)
	assert.Equal(t, w.DialerRetries, g.DialerRetries)
	assert.Equal(t, "alice", g.Username)
	assert.Equal(t, "pw", g.Password)
	assert.Equal(t, 3, g.DB)
	require.NotNil(t, g.TLSConfig)
	assert.Equal(t, "cache.example.com", g.TLSConfig.ServerName)
}

// TestRedisURLSharedServer (needs RESTAUTH_TEST_REDIS_ADDR): the shared Redis given as a
// redis:// URL in $RESTAUTH_REDIS_URL keeps the sessions and the limits.
func TestRedisURLSharedServer(t *testing.T) {
	t.Parallel()
	addr := os.Getenv("RESTAUTH_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("set RESTAUTH_TEST_REDIS_ADDR (e.g. 127.0.0.1:6379) to run the Redis URL test")
	}
	prefix := testRedisPrefix(t, addr)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	exerciseRedis(t, "redis://"+addr, "", rdb, prefix)
}

// TestRedisURLPassword (needs redis-server): against a private Redis with requirepass,
// the URL's password and database reach both clients; a wrong or missing password stops
// the server at start-up, without the password in the error.
func TestRedisURLPassword(t *testing.T) {
	t.Parallel()
	addr := startPrivateRedis(t, "--requirepass", "pw-s3cret")
	prefix := "restauth-test:pw:rl:"
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, Password: "pw-s3cret", DB: 3})
	defer rdb.Close()
	exerciseRedis(t, "redis://:pw-s3cret@"+addr+"/3", "pw-s3cret", rdb, prefix)
	db0 := goredis.NewClient(&goredis.Options{Addr: addr, Password: "pw-s3cret"})
	defer db0.Close()
	keys, err := db0.Keys(context.Background(), "*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys, "nothing in database 0: both clients selected /3")

	for _, tt := range []struct {
		name, args, url, wantErr string
	}{
		{"sessions, wrong password", "sessions", "redis://:wrong-s3cret@" + addr, "WRONGPASS"},
		{"sessions, no password", "sessions", "redis://" + addr, "NOAUTH"},
		{"limiter, wrong password", "limiter", "redis://:wrong-s3cret@" + addr, "WRONGPASS"},
		{"limiter, no password", "limiter", "redis://" + addr, "NOAUTH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"-store", "memory", "-limiter", "redis"}
			if tt.args == "sessions" {
				args = []string{"-store", "memory", "-sessions", "redis", "-limiter", "memory"}
			}
			o, _, err := parseFlags(args, io.Discard)
			require.NoError(t, err)
			getenv := env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40), redisURLEnv: tt.url})
			_, err = openApp(context.Background(), o, slog.New(slog.NewTextHandler(io.Discard, nil)), getenv)
			require.ErrorContains(t, err, tt.wantErr)
			assert.ErrorContains(t, err, "redis at redis://")
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

// TestRedisURLTLS (needs redis-server built with TLS): rediss:// makes both clients speak
// TLS and check the certificate against the system's roots, so a server with a
// self-signed certificate is refused at start-up, by the sessions and by the limiter.
func TestRedisURLTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testcert.WriteFiles(t, "restauth test redis", cert, key)
	port := freeTCPPort(t)
	addr := startPrivateRedis(t, "--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", cert, "--tls-key-file", key,
		"--tls-ca-cert-file", cert, "--tls-auth-clients", "no")

	// The server does speak TLS: a client trusting its certificate gets an answer.
	pool := x509.NewCertPool()
	pemBytes, err := os.ReadFile(cert)
	require.NoError(t, err)
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	trusting := goredis.NewClient(&goredis.Options{Addr: addr, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	defer trusting.Close()
	require.NoError(t, trusting.Ping(context.Background()).Err())

	for _, tt := range []struct {
		name string
		args []string
	}{
		{"sessions", []string{"-store", "memory", "-sessions", "redis", "-limiter", "memory"}},
		{"limiter", []string{"-store", "memory", "-limiter", "redis"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _, err := parseFlags(append(tt.args, "-redis", "rediss://"+addr), io.Discard)
			require.NoError(t, err)
			_, err = openApp(context.Background(), o, slog.New(slog.NewTextHandler(io.Discard, nil)), testEnv)
			require.ErrorContains(t, err, "redis at rediss://"+addr)
			assert.ErrorContains(t, err, "certificate signed by unknown authority")
		})
	}
}

// exerciseRedis starts a server whose sessions and limiter are in the Redis of url (given
// in $RESTAUTH_REDIS_URL), logs in with a session cookie, exhausts an account's wrong
// passwords, and checks through rdb that the session and the counts are in that Redis.
func exerciseRedis(t *testing.T, url, password string, rdb *goredis.Client, prefix string) {
	t.Helper()
	getenv := env(map[string]string{"RESTAUTH_SECRET": strings.Repeat("s", 40), redisURLEnv: url})
	var logs syncBuffer
	base, stop := startServerWith(t, getenv, &logs, "-db", t.TempDir()+"/restauth.db", "-sessions", "redis", "-redis-prefix", prefix)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	res, body := sendJSON(t, browser, http.MethodPost, base+"/api/auth/registration/", map[string]any{
		"username": "redisurl", "password1": "a-long-passphrase", "password2": "a-long-passphrase"}, "")
	require.Equal(t, http.StatusNoContent, res.StatusCode, body)
	res, body = sendJSON(t, browser, http.MethodPost, base+"/api/auth/login/", map[string]any{"username": "redisurl", "password": "a-long-passphrase"}, "")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	res, body = sendJSON(t, browser, http.MethodGet, base+"/api/auth/user/", nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode, "the session cookie alone logs in: %v", body)
	assert.Equal(t, "redisurl", body["username"])

	allowed := 0
	for i := range 7 {
		res, body := postJSON(t, base+"/api/auth/login/", map[string]any{"username": "redisurl", "password": "wrong-passphrase"})
		switch res.StatusCode {
		case http.StatusBadRequest:
			allowed++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("attempt %d: %d %v", i+1, res.StatusCode, body)
		}
	}
	assert.Equal(t, 5, allowed, "wrong passwords checked before the account is throttled")

	ctx := context.Background()
	cookies := jar.Cookies(res.Request.URL)
	require.NotEmpty(t, cookies)
	var stored int64
	for _, c := range cookies {
		hash := sha256.Sum256([]byte(c.Value)) // restauth has scs keep the token's hash
		n, err := rdb.Exists(ctx, "scs:session:"+base64.RawURLEncoding.EncodeToString(hash[:])).Result()
		require.NoError(t, err)
		stored += n
	}
	assert.Equal(t, int64(1), stored, "the session of the cookie is in this Redis")
	counts, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	assert.NotEmpty(t, counts, "the limits are counted in this Redis")

	stop()
	log := logs.String()
	assert.Contains(t, log, "restauth example server listening")
	target, err := parseRedis(url)
	require.NoError(t, err)
	assert.Contains(t, log, "redis="+target.String())
	if password != "" {
		assert.Contains(t, log, "redis=redis://:xxxxx@", "the listening line shows the address, the password redacted")
		assert.NotContains(t, log, password)
	}
}

// startPrivateRedis starts a redis-server of the test's own, without persistence, on a
// free loopback port (args may replace it, as TLS does) and returns its address; it waits
// for Redis's "Ready to accept connections" line instead of polling. The test is skipped
// when redis-server is missing or cannot run with args (a build without TLS, say).
func startPrivateRedis(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found on PATH")
	}
	port := freeTCPPort(t)
	base := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--loglevel", "notice"}
	for i, a := range args {
		if a == "--tls-port" && i+1 < len(args) {
			port, _ = strconv.Atoi(args[i+1])
		}
	}
	cmd := exec.Command(bin, append(base, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = cmd.Stdout
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan bool, 1)
	var output bytes.Buffer
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			output.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Ready to accept connections") {
				ready <- true
				_, _ = io.Copy(io.Discard, out)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Skipf("redis-server %s did not start:\n%s", strings.Join(args, " "), output.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("redis-server did not get ready")
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// freeTCPPort is a loopback port that was free a moment ago.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer that the server's log and the test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
