package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
	"github.com/restauth/restauth/pgstore"
	"github.com/restauth/restauth/sqlitestore"
)

// The seeded account. The password passes restauth's validators (length, similarity,
// common passwords), which CreateUser applies as registration does.
const (
	benchUsername = "bench"
	benchEmail    = "bench@example.com"
	benchPassword = "Quartz-Lantern-47-Orbit"
)

// userPath is the route every GET round drives.
const userPath = "/api/auth/user/"

// cheapPasswords keeps seeding fast: the GET rounds never hash, so the hash strength of
// the seeded user does not matter to them.
var cheapPasswords = restauth.PasswordConfig{Algorithm: "pbkdf2_sha256", PBKDF2Iterations: 1}

// target is one server under load on its own loopback listener.
type target struct {
	// name labels the target in the table, the JSON and the chart.
	name string
	// baseURL is "http://127.0.0.1:port".
	baseURL string
	// token is the API key the GET rounds present.
	token string
	// tokens, when set, are the keys the GET rounds present instead, a random one per
	// request (the large-table target).
	tokens []string
	// path, header and scheme are the route and credential the GET rounds send: by
	// default userPath with "Authorization: Token <key>"; the headless target sends its
	// session token in X-Session-Token, without a scheme.
	path, header, scheme string

	srv *http.Server
	// svc is closed (its outbox worker stopped) before the closers release the store.
	svc *restauth.Service
	// closers release the target's resources (store, temp files, schema) in reverse order.
	closers []func()
}

// close stops the server and releases the target's resources. It waits (up to 5 s) for
// the handlers still running, so that what they log is counted before it returns.
func (t *target) close() {
	if t.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = t.srv.Shutdown(ctx)
		cancel()
	}
	if t.svc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = t.svc.Close(ctx)
		cancel()
		t.svc = nil
	}
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.srv, t.closers = nil, nil // closing twice is harmless
}

// serve starts h on a fresh loopback listener and records it on t.
func (t *target) serve(h http.Handler) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// ReadHeaderTimeout is what a real deployment sets; it costs a timer per request on
	// every target alike.
	t.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	t.baseURL = "http://" + ln.Addr().String()
	// The labels pass to every connection's goroutine, so a -cpuprofile can be split by
	// target and by side (pprof -tagfocus side=server).
	labels := pprof.Labels("target", t.name, "side", "server")
	go pprof.Do(context.Background(), labels, func(context.Context) { _ = t.srv.Serve(ln) })
	return nil
}

// userBody is the user JSON of GET /api/auth/user/, decoded to check what a target answers.
type userBody struct {
	PK        int64  `json:"pk"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
}

// bareHandler does the least a token-authenticated user endpoint can do: compare the one
// token in constant time and write a fixed body. No routing, no store, no allocation
// beyond what net/http itself does, so it is the ceiling the restauth targets are
// measured against.
func bareHandler(token string, body []byte) http.Handler {
	want := []byte("Token " + token)
	ctype := []string{"application/json"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// Assigning the header slice directly skips Header.Set's canonicalization and
		// allocation: this handler is meant to cost as little as possible.
		w.Header()["Content-Type"] = ctype
		_, _ = w.Write(body)
	})
}

// newBareTarget starts the bare handler with a random token of restauth's key shape, so
// the Authorization header has the same length on every target.
func newBareTarget(body []byte) (*target, error) {
	raw := make([]byte, 20)
	_, _ = rand.Read(raw)
	t := &target{name: "bare net/http", token: "inv-" + hex.EncodeToString(raw) + "-20991231"}
	return t, t.serve(bareHandler(t.token, body))
}

// quietLogger keeps restauth's warnings and errors visible on stderr and drops its
// informational lines, which would interleave with the progress output. It also drops,
// and counts in canceledLogged, the errors of requests whose client had gone: the login
// rounds end by cancelling the logins still queued for a hashing slot, and restauth logs
// each of those as a failed request.
func quietLogger() *slog.Logger {
	return slog.New(dropCanceled{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})
}

// canceledLogged counts the log records dropCanceled dropped.
var canceledLogged atomic.Uint64

// dropCanceled is a slog.Handler that drops records carrying a context.Canceled error.
type dropCanceled struct{ slog.Handler }

// Handle drops r when one of its attributes is an error matching context.Canceled.
func (h dropCanceled) Handle(ctx context.Context, r slog.Record) error {
	canceled := false
	r.Attrs(func(a slog.Attr) bool {
		err, ok := a.Value.Any().(error)
		canceled = ok && errors.Is(err, context.Canceled)
		return !canceled
	})
	if canceled {
		canceledLogged.Add(1)
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the filter on derived handlers.
func (h dropCanceled) WithAttrs(attrs []slog.Attr) slog.Handler {
	return dropCanceled{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the filter on derived handlers.
func (h dropCanceled) WithGroup(name string) slog.Handler {
	return dropCanceled{h.Handler.WithGroup(name)}
}

// newService builds a Service on store the way a host application would.
// newService is the Service of a target; tweaks adjust its Config (the login rounds lift
// the per-request deadline).
func newService(store restauth.Store, pw restauth.PasswordConfig, cache restauth.TokenCacheConfig, tweaks ...func(*restauth.Config)) (*restauth.Service, error) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	cfg := restauth.Config{
		Store:     store,
		Secret:    secret,
		SiteURL:   "http://bench.invalid",
		Passwords: pw,
		// Every request comes from one loopback address: limits would throttle the load itself.
		RateLimits: rateLimitsOff(),
		Logger:     quietLogger(),
		Tokens:     restauth.TokenConfig{Cache: cache},
	}
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	return restauth.New(cfg)
}

// rateLimitsOff turns every rate rule off.
func rateLimitsOff() restauth.RateLimits {
	off := restauth.RateRule{Limit: -1}
	return restauth.RateLimits{
		LoginFailedPerAccount: off, LoginFailedPerIP: off, ResetPerIP: off, ResetPerEmail: off,
		SignupPerIP: off, PasswordChangePerUser: off, ResendPerEmail: off, MFAFailedPerUser: off,
		BodyPerIP:                  off,
		LoginFailedPerAccountDaily: off, MFAFailedPerUserIP: off, MailPerRecipient: off,
	}
}

// seed creates the bench user (verified address) and returns an API token for it.
func seed(ctx context.Context, svc *restauth.Service) (string, error) {
	u, err := svc.CreateUser(ctx, restauth.NewUser{Username: benchUsername, Email: benchEmail, Password: benchPassword, EmailVerified: true})
	if err != nil {
		return "", fmt.Errorf("seeding the user: %w", err)
	}
	issued, err := svc.IssueToken(ctx, u, "bench")
	if err != nil {
		return "", fmt.Errorf("issuing the token: %w", err)
	}
	return issued.Key, nil
}

// newRestauthTarget builds a Service on store, seeds it and serves its Handler mounted at
// /api/auth/ on a ServeMux, as a host application mounts it.
func newRestauthTarget(ctx context.Context, name string, store restauth.Store, pw restauth.PasswordConfig, cache restauth.TokenCacheConfig, tweaks ...func(*restauth.Config)) (*target, *restauth.Service, error) {
	t := &target{name: name}
	svc, err := newService(store, pw, cache, tweaks...)
	t.svc = svc
	if err != nil {
		return t, nil, err
	}
	if t.token, err = seed(ctx, svc); err != nil {
		return t, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", svc.Handler())
	return t, svc, t.serve(mux)
}

// newMemTarget serves restauth on memstore.
func newMemTarget(ctx context.Context) (*target, error) {
	t, _, err := newRestauthTarget(ctx, "restauth memstore", memstore.New(), cheapPasswords, noCache)
	return t, err
}

// noCache leaves the token cache off (the default); benchCache is the cached targets'
// setting: the documented default TTL, room for every token of the run.
var (
	noCache    = restauth.TokenCacheConfig{}
	benchCache = restauth.TokenCacheConfig{Size: 10_000, TTL: 5 * time.Second}
)

// newSQLiteTarget serves restauth on sqlitestore in a temporary file, removed on close.
func newSQLiteTarget(ctx context.Context, name string, cache restauth.TokenCacheConfig) (*target, error) {
	st, cleanup, err := openTempSQLite(ctx)
	if err != nil {
		return nil, err
	}
	t, _, err := newRestauthTarget(ctx, name, st, cheapPasswords, cache)
	t.closers = append(t.closers, cleanup, func() { _ = st.Close() })
	return t, err
}

// openTempSQLite opens a sqlitestore in a new temporary directory; cleanup removes the
// directory (close the store first).
func openTempSQLite(ctx context.Context) (st *sqlitestore.Store, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "restauth-bench-")
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	if st, err = sqlitestore.Open(ctx, filepath.Join(dir, "bench.db")); err != nil {
		cleanup()
		return nil, nil, err
	}
	return st, cleanup, nil
}

// newPGTarget serves restauth on pgstore in a schema of its own with a random name, dropped
// on close, so that the run neither needs an empty database nor leaves anything behind.
func newPGTarget(ctx context.Context, dsn, name string, cache restauth.TokenCacheConfig) (*target, error) {
	raw := make([]byte, 6)
	_, _ = rand.Read(raw)
	schema := "restauth_bench_" + hex.EncodeToString(raw)
	st, err := pgstore.Open(ctx, dsn, pgstore.WithSchema(schema))
	if err != nil {
		return nil, err
	}
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The name is "restauth_bench_" and hex digits only, so quoting it is enough.
		if _, err := st.Pool().Exec(dctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
			fmt.Fprintf(os.Stderr, "bench: dropping schema %s: %v\n", schema, err)
		}
		st.Close()
	}
	t, _, err := newRestauthTarget(ctx, name, st, cheapPasswords, cache)
	t.closers = append(t.closers, drop)
	return t, err
}

// fetchUser makes one GET /api/auth/user/ and returns the body, insisting on 200, a JSON
// Content-Type and the seeded user: a target that answered anything else would not be
// comparable. The bare handler writes the body restauth on memstore answered, so both
// put the same bytes on the wire.
func fetchUser(ctx context.Context, client *http.Client, t *target) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.baseURL+t.route(), nil)
	if err != nil {
		return nil, err
	}
	name, value := t.credential(t.token)
	req.Header.Set(name, value)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: GET %s answered %d: %s", t.name, t.route(), resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, fmt.Errorf("%s: GET %s answered Content-Type %q", t.name, userPath, ct)
	}
	if t.route() != userPath {
		return body, nil // another dialect's shape: the 200 is the check
	}
	var u userBody
	if err := json.Unmarshal(body, &u); err != nil || u.Username != benchUsername || u.Email != benchEmail {
		return nil, fmt.Errorf("%s: GET %s answered %q, not the seeded user", t.name, userPath, body)
	}
	return body, nil
}

// route is the path the GET rounds request.
func (t *target) route() string {
	if t.path != "" {
		return t.path
	}
	return userPath
}

// credential is the header carrying key.
func (t *target) credential(key string) (name, value string) {
	if t.header != "" {
		return t.header, t.scheme + key
	}
	return "Authorization", "Token " + key
}
