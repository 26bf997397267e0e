package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/sqlitestore"
)

// failAfter bounds a wait that only a broken server makes long: it never passes in a
// passing run.
const failAfter = 10 * time.Second

// logWatch is a slog handler that hands every message to the test, which waits for the
// shutdown's steps by their log lines.
type logWatch struct {
	slog.Handler
	msgs chan string
}

func newLogWatch() *logWatch {
	return &logWatch{Handler: slog.NewTextHandler(io.Discard, nil), msgs: make(chan string, 1000)}
}

func (w *logWatch) Handle(ctx context.Context, r slog.Record) error {
	select {
	case w.msgs <- r.Message:
	default:
	}
	return nil
}

func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

// waitLog waits for a message starting with prefix.
func (w *logWatch) waitLog(t *testing.T, prefix string) {
	t.Helper()
	timeout := time.After(failAfter)
	for {
		select {
		case m := <-w.msgs:
			if strings.HasPrefix(m, prefix) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line %q", prefix)
		}
	}
}

// fakeAfter is the shutdown's clock: its i-th timer fires when the test closes fire[i].
type fakeAfter struct {
	mu    sync.Mutex
	fire  []chan time.Time
	asked []time.Duration
}

func newFakeAfter(n int) *fakeAfter {
	f := &fakeAfter{}
	for range n {
		f.fire = append(f.fire, make(chan time.Time))
	}
	return f
}

func (f *fakeAfter) after(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, d)
	if i := len(f.asked) - 1; i < len(f.fire) {
		return f.fire[i]
	}
	return nil // never fires
}

// events records what happened in which order, across goroutines.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) { e.mu.Lock(); defer e.mu.Unlock(); e.list = append(e.list, s) }
func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

// testServer is a server run in-process with the test's own mailer, store wrapper,
// clock and log watcher.
type testServer struct {
	base   string
	app    *app
	logs   *logWatch
	clock  *fakeAfter
	events *events
	stop   context.CancelFunc
	done   chan error
}

func startTestServer(t *testing.T, setup func(o *options), args ...string) *testServer {
	t.Helper()
	o, _, err := parseFlags(args, io.Discard)
	require.NoError(t, err)
	if setup != nil {
		setup(o)
	}
	s := &testServer{logs: newLogWatch(), clock: newFakeAfter(2), events: &events{}, done: make(chan error, 1)}
	logger := slog.New(s.logs)
	s.app, err = openApp(context.Background(), o, logger, testEnv)
	require.NoError(t, err)
	s.app.after = s.clock.after
	s.app.closers = append(s.app.closers, func() { s.events.add("stores closed") }) // runs first of the closers
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.base = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { s.done <- serve(ctx, ln, s.app, logger) }()
	t.Cleanup(func() { cancel(); s.app.close() })
	return s
}

// waitDone waits for serve to return.
func (s *testServer) waitDone(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(failAfter):
		t.Fatal("the server did not shut down")
		return nil
	}
}

// requireRunning asserts that serve has not returned and the stores are open.
func (s *testServer) requireRunning(t *testing.T, when string) {
	t.Helper()
	select {
	case err := <-s.done:
		t.Fatalf("%s: the server returned (%v)", when, err)
	default:
	}
	require.NotContains(t, s.events.get(), "stores closed", when)
}

// slowMailer delivers every message only once the test opens gate.
type slowMailer struct {
	gate    chan struct{}
	entered chan string
	events  *events
	mu      sync.Mutex
	sent    []string
}

func (m *slowMailer) Send(ctx context.Context, msg *restauth.Message) error {
	m.entered <- msg.To[0]
	select {
	case <-m.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	m.mu.Lock()
	m.sent = append(m.sent, msg.To[0])
	m.mu.Unlock()
	m.events.add("sent " + msg.To[0])
	return nil
}

// TestShutdownDeliversQueuedMail (F3): mail queued by answered requests is delivered
// before the server exits, and the stores close after the last of it; if the grace runs
// out first, the server says so and exits with an error.
func TestShutdownDeliversQueuedMail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		graceOut  bool
		wantErr   string
		wantLogLn string
	}{
		{"delivered", false, "", "shut down cleanly"},
		{"grace runs out", true, "ran out with mail undelivered", "shutdown grace ran out before the queued mail was delivered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const users = 5
			ev := &events{}
			mailer := &slowMailer{gate: make(chan struct{}), entered: make(chan string, 100), events: ev}
			s := startTestServer(t, func(o *options) { o.mailer = mailer },
				"-db", t.TempDir()+"/restauth.db", "-verification", "none")
			s.events = ev
			s.app.closers[len(s.app.closers)-1] = func() { ev.add("stores closed") }
			t.Cleanup(func() {
				select {
				case <-mailer.gate:
				default:
					close(mailer.gate)
				}
			})

			var want []string
			for i := range users {
				addr := fmt.Sprintf("user%d@example.com", i)
				want = append(want, addr)
				res, body := postJSON(t, s.base+"/api/auth/registration/", map[string]any{
					"username": fmt.Sprintf("user%d", i), "email": addr, "password1": "a-long-passphrase", "password2": "a-long-passphrase"})
				require.Equal(t, http.StatusNoContent, res.StatusCode, body)
			}
			for _, addr := range want {
				res, body := postJSON(t, s.base+"/api/auth/password/reset/", map[string]any{"email": addr})
				require.Equal(t, http.StatusOK, res.StatusCode, body)
			}
			var entered []string
			// The Service sends Config.Mail.Outbox.Workers mails at once (4 by default);
			// those are with the (stuck) mail server, the others wait in the outbox.
			const sending = 4
			for range sending {
				select {
				case to := <-mailer.entered:
					entered = append(entered, to)
				case <-time.After(failAfter):
					t.Fatalf("only %d mails reached the mailer", len(entered))
				}
			}
			require.Subset(t, want, entered)

			s.stop()
			s.logs.waitLog(t, "delivering the mail")
			s.requireRunning(t, "mail pending")
			if tt.graceOut {
				close(s.clock.fire[0])
			} else {
				close(mailer.gate)
			}
			s.logs.waitLog(t, tt.wantLogLn)
			err := s.waitDone(t)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, mailer.sent)
				assert.Equal(t, []string{"stores closed"}, ev.get())
				return
			}
			require.NoError(t, err, "a clean shutdown")
			assert.ElementsMatch(t, want, mailer.sent, "every mail queued before the shutdown was sent")
			got := ev.get()
			require.NotEmpty(t, got)
			assert.Equal(t, "stores closed", got[len(got)-1], "the stores close after the last mail: %v", got)
			assert.Equal(t, []time.Duration{defaultShutdownGrace, handlerWait}, s.clock.asked, "the default grace bounds the shutdown")
		})
	}
}

// gatedStore holds token look-ups, while armed, until the test opens gate.
type gatedStore struct {
	*sqlitestore.Store
	armed   atomic.Bool
	entered chan struct{}
	gate    chan struct{}
	events  *events
}

func (g *gatedStore) TokenAndUserByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, *restauth.User, error) {
	if !g.armed.Load() {
		return g.Store.TokenAndUserByHash(ctx, hash)
	}
	g.entered <- struct{}{}
	<-g.gate // like a handler that does not watch its context
	t, u, err := g.Store.TokenAndUserByHash(ctx, hash)
	g.events.add(fmt.Sprintf("lookup done, error %v", err))
	return t, u, err
}

// TestShutdownWaitsForRequestsInFlight (F4): a request in flight when the shutdown starts
// gets its normal answer, and the stores close only after it; when the grace runs out, the
// connection is cut but the stores still wait for the handler; when the handler outlives
// even that, the stores stay open. No request ever sees "sql: database is closed".
func TestShutdownWaitsForRequestsInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fire      int // timers of the shutdown that run out: 0 none, 1 the grace, 2 also the wait for handlers
		wantErr   string
		answered  bool
		wantStore string // the store's answer to the held look-up; a cut connection may cancel it or not
	}{
		{"within the grace", 0, "", true, "error <nil>"},
		{"grace runs out", 1, "ran out with requests in flight", false, ""},
		{"handler outlives the grace", 2, "stores left open", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := &events{}
			gs := &gatedStore{entered: make(chan struct{}, 1), gate: make(chan struct{}), events: ev}
			s := startTestServer(t, func(o *options) {
				o.wrapStore = func(st restauth.Store) restauth.Store {
					gs.Store = st.(*sqlitestore.Store)
					return gs
				}
			}, "-db", t.TempDir()+"/restauth.db", "-shutdown-grace", "7s")
			s.events = ev
			s.app.closers[len(s.app.closers)-1] = func() { ev.add("stores closed") }

			res, body := postJSON(t, s.base+"/api/auth/registration/", map[string]any{
				"username": "slow", "email": "slow@example.com", "password1": "a-long-passphrase", "password2": "a-long-passphrase"})
			require.Equal(t, http.StatusNoContent, res.StatusCode, body)
			// Registration answers with the session only; the key comes from a login.
			res, body = postJSON(t, s.base+"/api/auth/login/", map[string]any{"username": "slow", "password": "a-long-passphrase"})
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			key := body["key"].(string)

			gs.armed.Store(true)
			type answer struct {
				status int
				body   string
				err    error
			}
			answers := make(chan answer, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodGet, s.base+"/api/user/me/", nil)
				req.Header.Set("Authorization", "Token "+key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					answers <- answer{err: err}
					return
				}
				defer res.Body.Close()
				raw, err := io.ReadAll(res.Body)
				answers <- answer{status: res.StatusCode, body: string(raw), err: err}
			}()
			select {
			case <-gs.entered:
			case <-time.After(failAfter):
				t.Fatal("the request did not reach the store")
			}

			s.stop()
			s.logs.waitLog(t, "shutting down")
			s.requireRunning(t, "request in flight")
			if tt.fire >= 1 {
				close(s.clock.fire[0])
				s.logs.waitLog(t, "shutdown grace ran out with requests in flight")
				s.requireRunning(t, "grace ran out, handler running")
			}
			if tt.fire >= 2 {
				close(s.clock.fire[1])
				err := s.waitDone(t)
				require.ErrorContains(t, err, tt.wantErr)
				close(gs.gate)
				a := <-answers
				require.Error(t, a.err, "the connection was cut")
				assert.NotContains(t, ev.get(), "stores closed", "the stores stay open under a running handler")
				return // the test's cleanup closes the stores once the handler is done
			}
			close(gs.gate)
			a := <-answers
			if tt.answered {
				require.NoError(t, a.err)
				assert.Equal(t, http.StatusOK, a.status, a.body)
				assert.Contains(t, a.body, `"username":"slow"`)
			} else {
				require.Error(t, a.err, "the connection was cut when the grace ran out")
			}
			err := s.waitDone(t)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			got := ev.get()
			require.Len(t, got, 2, "%v", got)
			assert.Contains(t, got[0], "lookup done", "the handler's store work ends before the stores close")
			assert.Contains(t, got[0], tt.wantStore)
			assert.NotContains(t, got[0], "database is closed")
			assert.Equal(t, "stores closed", got[1])
			assert.Equal(t, 7*time.Second, s.clock.asked[0], "-shutdown-grace")
		})
	}
}

// TestInflightIdle: idle is closed exactly when no request is being handled.
func TestInflightIdle(t *testing.T) {
	t.Parallel()
	f := &inflight{}
	requireClosed := func(c <-chan struct{}, want bool) {
		t.Helper()
		select {
		case <-c:
			require.True(t, want, "closed too early")
		default:
			require.False(t, want, "not closed")
		}
	}
	requireClosed(f.idle(), true)
	f.add(1)
	f.add(1)
	c := f.idle()
	requireClosed(c, false)
	f.add(-1)
	requireClosed(c, false)
	f.add(-1)
	requireClosed(c, true)
	requireClosed(f.idle(), true)
}
