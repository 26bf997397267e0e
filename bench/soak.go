package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
	"github.com/restauth/restauth/sqlitestore"
)

// The soak (issue 6, "Done means"): many concurrent clients mix registration, logins with
// the right and a wrong password, token requests and logout against restauth with its
// default argon2id hashing for a bounded time on loopback; afterwards the store is
// checked directly for lost and duplicated accounts.

// soakOps are the steps of one client iteration, in order.
const (
	opRegister = iota
	opLoginRight
	opLoginWrong
	opTokenBasic
	opUserToken
	opLogout
	opUserAfterLogout
	numSoakOps
)

// soakOpNames label the steps in the table.
var soakOpNames = [numSoakOps]string{
	"POST registration/",
	"POST login/ right password",
	"POST login/ wrong password",
	"GET /api/user/token/ Basic",
	"GET user/ with that token",
	"POST logout/ with it",
	"GET user/ after logout",
}

// soakExpected is the answer each step must get; registration may also get 400 for a
// shared name already taken.
var soakExpected = [numSoakOps]int{201, 200, 400, 200, 200, 200, 401}

// soakSharedNames is the size of the pool of usernames every 10th registration draws from,
// so that concurrent registrations race for the same name.
const soakSharedNames = 20

// soakRequestTimeout bounds one request: a request that hangs is a failure, not a wait.
const soakRequestTimeout = 60 * time.Second

// opStats is one step's figures, shared by all clients (a mutex per step is cheap next to
// a hash; a histogram per client and step would weigh more than the memory measured).
type opStats struct {
	mu       sync.Mutex
	statuses map[int]uint64
	errors   uint64
	hist     histogram
}

func (s *opStats) record(status int, lat time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errors++
		return
	}
	s.statuses[status]++
	s.hist.Record(lat)
}

// soakRun is the shared state of one soak.
type soakRun struct {
	baseURL string
	client  *http.Client
	ops     [numSoakOps]*opStats
	regSeq  atomic.Uint64

	mu sync.Mutex
	// created maps each username whose registration got 201 to the e-mail it registered.
	created map[string]string
	// created201 counts 201 answers (equal to len(created) unless a name got two).
	created201 int
	// refused holds the usernames whose registration got 400.
	refused map[string]int
	// unknown holds usernames whose registration got no answer (transport error).
	unknown []string
	// dup201 lists lower-cased names that got 201 more than once.
	dup201 []string
	// fiveXX describes every 5xx answer.
	fiveXX []string
	// unexpected describes answers other than the expected ones (first 20).
	unexpected    []string
	unexpectedN   int
	transportErrs []string
}

func (r *soakRun) note(list *[]string, n *int, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n != nil {
		*n++
	}
	if len(*list) < 20 {
		*list = append(*list, fmt.Sprintf(format, args...))
	}
}

// do sends one request for step op and returns the status and body (status 0 on a
// transport error, which is recorded).
func (r *soakRun) do(ctx context.Context, op int, method, path string, body any, auth string) (int, []byte) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, soakRequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.baseURL+path, rd)
	if err != nil {
		panic(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	start := time.Now()
	resp, err := r.client.Do(req)
	var out []byte
	if err == nil {
		out, err = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
	}
	lat := time.Since(start)
	if err != nil {
		r.ops[op].record(0, lat, err)
		r.note(&r.transportErrs, nil, "%s: %v", soakOpNames[op], err)
		return 0, nil
	}
	r.ops[op].record(resp.StatusCode, lat, nil)
	if resp.StatusCode >= 500 {
		r.note(&r.fiveXX, nil, "%s: %d %s", soakOpNames[op], resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return resp.StatusCode, out
}

// expect records an unexpected answer and reports whether the status was want.
func (r *soakRun) expect(op, status int, body []byte, want ...int) bool {
	if status == 0 || slices.Contains(want, status) {
		return status != 0
	}
	r.note(&r.unexpected, &r.unexpectedN, "%s: %d %s", soakOpNames[op], status, strings.TrimSpace(string(body)))
	return false
}

// clientLoop is one closed-loop client: it runs iterations until the deadline, checked
// before every request that hashes a password (registration, logins, the Basic token
// request); a request already sent is always let finish, so that every registration's
// outcome is known when the store is checked. A client that holds a token when the time is
// up still finishes its iteration: the three steps left hash nothing and take
// milliseconds, whereas with the default argon2id an iteration's four hashes queue for tens
// of seconds behind the hashing slots at 200 clients on a small machine, so a strict cut
// would never reach them.
func (r *soakRun) clientLoop(ctx context.Context, deadline time.Time) {
	live := func() bool { return ctx.Err() == nil && time.Now().Before(deadline) }
	for live() {
		n := r.regSeq.Add(1) - 1
		raw := make([]byte, 6)
		_, _ = rand.Read(raw)
		tag := hex.EncodeToString(raw)
		username := fmt.Sprintf("soak%d", n)
		if n%10 == 0 {
			username = fmt.Sprintf("shared%02d", mrand.IntN(soakSharedNames))
			if mrand.IntN(2) == 0 {
				username = strings.ToUpper(username) // usernames are unique case-insensitively
			}
		}
		email := fmt.Sprintf("soak%d.%s@example.com", n, tag)
		password := "Quartz-" + tag + "-Orbit"
		status, body := r.do(ctx, opRegister, http.MethodPost, "/api/auth/registration/",
			map[string]string{"username": username, "email": email, "password1": password, "password2": password}, "")
		r.mu.Lock()
		switch status {
		case http.StatusCreated:
			r.created201++
			if _, dup := r.created[strings.ToLower(username)]; dup {
				r.dup201 = append(r.dup201, username)
			}
			r.created[strings.ToLower(username)] = email
		case http.StatusBadRequest:
			r.refused[strings.ToLower(username)]++
		case 0:
			r.unknown = append(r.unknown, username)
		}
		r.mu.Unlock()
		shared := n%10 == 0
		if status != http.StatusCreated {
			if shared && status == http.StatusBadRequest && !bytes.Contains(body, []byte(`"username"`)) {
				r.note(&r.unexpected, &r.unexpectedN, "%s: 400 for a shared name, not about the username: %s", soakOpNames[opRegister], body)
			}
			if !(shared && status == http.StatusBadRequest) {
				r.expect(opRegister, status, body, http.StatusCreated)
			}
			if shared && status == http.StatusBadRequest && live() {
				// The name belongs to another client: a wrong password for it still costs a hash.
				st, b := r.do(ctx, opLoginWrong, http.MethodPost, "/api/auth/login/",
					map[string]string{"username": username, "password": "wrong-" + password}, "")
				r.expect(opLoginWrong, st, b, http.StatusBadRequest)
			}
			continue
		}
		if !live() {
			return
		}
		st, b := r.do(ctx, opLoginRight, http.MethodPost, "/api/auth/login/",
			map[string]string{"username": username, "password": password}, "")
		r.expect(opLoginRight, st, b, http.StatusOK)
		if !live() {
			return
		}
		st, b = r.do(ctx, opLoginWrong, http.MethodPost, "/api/auth/login/",
			map[string]string{"username": username, "password": "wrong-" + password}, "")
		r.expect(opLoginWrong, st, b, http.StatusBadRequest)
		if !live() {
			return
		}
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(username, password)
		st, b = r.do(ctx, opTokenBasic, http.MethodGet, "/api/user/token/", nil, req.Header.Get("Authorization"))
		if !r.expect(opTokenBasic, st, b, http.StatusOK) {
			continue
		}
		var tok struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(b, &tok) != nil || tok.Token == "" {
			r.note(&r.unexpected, &r.unexpectedN, "%s: no token in %q", soakOpNames[opTokenBasic], b)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		st, b = r.do(ctx, opUserToken, http.MethodGet, "/api/auth/user/", nil, "Token "+tok.Token)
		if r.expect(opUserToken, st, b, http.StatusOK) {
			var u userBody
			if json.Unmarshal(b, &u) != nil || u.Username != username || !strings.EqualFold(u.Email, email) {
				r.note(&r.unexpected, &r.unexpectedN, "%s: answered %q for %s", soakOpNames[opUserToken], b, username)
			}
		}
		if ctx.Err() != nil {
			return
		}
		st, b = r.do(ctx, opLogout, http.MethodPost, "/api/auth/logout/", nil, "Token "+tok.Token)
		if !r.expect(opLogout, st, b, http.StatusOK) || ctx.Err() != nil {
			continue
		}
		st, b = r.do(ctx, opUserAfterLogout, http.MethodGet, "/api/auth/user/", nil, "Token "+tok.Token)
		r.expect(opUserAfterLogout, st, b, http.StatusUnauthorized)
	}
}

// soakStore is the store under test and how to check it afterwards.
type soakStore struct {
	name  string
	store restauth.Store
	// countSQL, when set, counts and checks users with SQL, independently of the Store API.
	countSQL func(ctx context.Context) (users int, dupNames int, err error)
	close    func()
}

func openSoakStore(ctx context.Context, kind string) (*soakStore, error) {
	switch kind {
	case "mem":
		return &soakStore{name: "memstore", store: memstore.New(), close: func() {}}, nil
	case "sqlite":
		dir, err := os.MkdirTemp("", "restauth-soak-")
		if err != nil {
			return nil, err
		}
		st, err := sqlitestore.Open(ctx, filepath.Join(dir, "soak.db"))
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		return &soakStore{
			name:  "sqlitestore (" + filepath.Join(dir, "soak.db") + ")",
			store: st,
			countSQL: func(ctx context.Context) (int, int, error) {
				var users, dups int
				if err := st.DB().QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&users); err != nil {
					return 0, 0, err
				}
				err := st.DB().QueryRowContext(ctx,
					`SELECT count(*) FROM (SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1)`).Scan(&dups)
				return users, dups, err
			},
			close: func() { _ = st.Close(); _ = os.RemoveAll(dir) },
		}, nil
	}
	return nil, fmt.Errorf("-soak-store %q: want sqlite or mem", kind)
}

// runSoak runs the soak and prints its figures; it returns an error on any 5xx,
// transport error, unexpected answer or account mismatch.
func runSoak(ctx context.Context, o options, out io.Writer, logf func(string, ...any)) error {
	ss, err := openSoakStore(ctx, o.soakStore)
	if err != nil {
		return err
	}
	defer ss.close()

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	svc, err := restauth.New(restauth.Config{
		Store:     ss.store,
		Secret:    secret,
		SiteURL:   "http://bench.invalid",
		Passwords: restauth.PasswordConfig{}, // the default: argon2id t=2 m=19456KiB p=1
		// One loopback address would be throttled at once: every rule is off.
		RateLimits: rateLimitsOff(),
		Logger:     quietLogger(),
		// Registrations answer 201 {"key"}, issuing a token as they did when the soak was
		// written (the default 204 writes none), and the soak counts 201s.
		RegistrationTokenAnswer: true,
	})
	if err != nil {
		return err
	}
	t := &target{name: "soak " + ss.name}
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", svc.Handler())
	mux.Handle("/api/user/", svc.UserHandler())
	if err := t.serve(mux); err != nil {
		return err
	}
	defer t.close()

	client := newClient(o.soakConc)
	defer client.CloseIdleConnections()
	r := &soakRun{baseURL: t.baseURL, client: client, created: map[string]string{}, refused: map[string]int{}}
	for i := range r.ops {
		r.ops[i] = &opStats{statuses: map[int]uint64{}}
	}

	runtime.GC()
	debug.FreeOSMemory()
	rssBefore := currentRSS()
	scope := "process"
	if resetPeakRSS() {
		scope = "soak"
	}
	slots := runtime.NumCPU() // PasswordConfig.MaxConcurrentHashes' default
	logf("soak: %d clients for %s on %s at %s, argon2id t=%d m=%dKiB, %d hashing slots, rate limits off, RSS %.0f MiB",
		o.soakConc, o.soakDur, ss.name, t.baseURL, defaultArgon2Time, defaultArgon2MemoryKiB, slots, mib(rssBefore))

	// Peak RSS is also sampled, to show it over time rather than only its maximum.
	var sampled atomic.Uint64
	stopSample := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSample:
				return
			case <-tick.C:
				if v := currentRSS(); v > sampled.Load() {
					sampled.Store(v)
				}
			}
		}
	})

	start := time.Now()
	deadline := start.Add(o.soakDur)
	var wg sync.WaitGroup
	for range o.soakConc {
		wg.Go(func() { r.clientLoop(ctx, deadline) })
	}
	progressDone := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-progressDone:
				return
			case now := <-tick.C:
				r.mu.Lock()
				c := r.created201
				r.mu.Unlock()
				logf("soak: %4.1fs  %d registrations, %d accounts created, RSS %.0f MiB", now.Sub(start).Seconds(), r.regSeq.Load(), c, mib(currentRSS()))
			}
		}
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(progressDone)
	close(stopSample)
	sampler.Wait()
	peak := peakRSS()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	logf("soak: load over after %.1fs (%.1fs past the deadline for the requests in flight); checking the store", elapsed.Seconds(), (elapsed - o.soakDur).Seconds())
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// The store, checked directly.
	var problems []string
	lost, wrongOwner := 0, 0
	for name, email := range r.created {
		u, err := ss.store.UserByUsername(ctx, name)
		switch {
		case errors.Is(err, restauth.ErrNotFound):
			lost++
			problems = append(problems, fmt.Sprintf("lost: %s got 201 but is not in the store", name))
		case err != nil:
			return fmt.Errorf("UserByUsername(%q): %w", name, err)
		case !strings.EqualFold(u.Email, email):
			wrongOwner++
			problems = append(problems, fmt.Sprintf("overwritten: %s holds %s, registered with %s", name, u.Email, email))
		}
	}
	// Walk every ID a registration could have used: each attempt takes at most one.
	attempts := int64(r.regSeq.Load())
	byName := map[string]int{}
	users := 0
	for id := int64(1); id <= 2*attempts+100; id++ {
		u, err := ss.store.UserByID(ctx, id)
		if errors.Is(err, restauth.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("UserByID(%d): %w", id, err)
		}
		users++
		byName[strings.ToLower(u.Username)]++
	}
	dupStored := 0
	for name, n := range byName {
		if n > 1 {
			dupStored++
			problems = append(problems, fmt.Sprintf("duplicated: %d users named %s", n, name))
		}
	}
	refusedMissing := 0
	for name := range r.refused {
		if byName[name] != 1 {
			refusedMissing++
			problems = append(problems, fmt.Sprintf("refused %s (400) but the store holds %d of it", name, byName[name]))
		}
		if _, ok := r.created[name]; !ok {
			problems = append(problems, fmt.Sprintf("refused %s (400) but no registration of it got 201", name))
		}
	}
	unknownFound := 0
	for _, name := range r.unknown {
		if _, ok := r.created[strings.ToLower(name)]; !ok && byName[strings.ToLower(name)] == 1 {
			unknownFound++
		}
	}
	if len(r.dup201) > 0 {
		problems = append(problems, fmt.Sprintf("names that got 201 twice: %v", r.dup201))
	}
	if users != r.created201+unknownFound {
		problems = append(problems, fmt.Sprintf("the store holds %d users, registrations got %d × 201 (+%d unanswered that exist)", users, r.created201, unknownFound))
	}
	sqlUsers, sqlDups := -1, -1
	if ss.countSQL != nil {
		if sqlUsers, sqlDups, err = ss.countSQL(ctx); err != nil {
			return fmt.Errorf("counting users in SQL: %w", err)
		}
		if sqlUsers != users || sqlDups != 0 {
			problems = append(problems, fmt.Sprintf("SQL: %d users, %d duplicated names; the Store API walk found %d users", sqlUsers, sqlDups, users))
		}
	}

	// The report.
	fmt.Fprintf(out, "soak: %d clients, %s of load (+%.1fs for the requests in flight), restauth on %s, argon2id defaults (t=%d, m=%d KiB, p=%d), %d hashing slots, rate limits off, loopback\n\n",
		o.soakConc, o.soakDur, (elapsed - o.soakDur).Seconds(), ss.name, defaultArgon2Time, defaultArgon2MemoryKiB, defaultArgon2Threads, slots)
	fmt.Fprintf(out, "%-28s %7s %7s %8s %8s  %s\n", "step", "answers", "req/s", "p50", "p99", "statuses (expected first)")
	total := uint64(0)
	n5xx := 0
	nErr := uint64(0)
	for i, s := range r.ops {
		n := s.hist.Count()
		total += n
		nErr += s.errors
		codes := make([]int, 0, len(s.statuses))
		for c := range s.statuses {
			codes = append(codes, c)
			if c >= 500 {
				n5xx += int(s.statuses[c])
			}
		}
		slices.SortFunc(codes, func(a, b int) int {
			if a == soakExpected[i] {
				return -1
			}
			if b == soakExpected[i] {
				return 1
			}
			return a - b
		})
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", c, s.statuses[c]))
		}
		if s.errors > 0 {
			parts = append(parts, fmt.Sprintf("transport errors×%d", s.errors))
		}
		fmt.Fprintf(out, "%-28s %7d %7.1f %8s %8s  %s\n", soakOpNames[i], n, float64(n)/elapsed.Seconds(),
			fmtDur(s.hist.Quantile(0.5)), fmtDur(s.hist.Quantile(0.99)), strings.Join(parts, " "))
	}
	fmt.Fprintf(out, "%-28s %7d %7.1f\n\n", "all", total, float64(total)/elapsed.Seconds())

	fmt.Fprintf(out, "registrations: %d sent, %d × 201, %d × 400 (shared names taken; %d distinct), %d unanswered\n",
		attempts, r.created201, sumValues(r.refused), len(r.refused), len(r.unknown))
	fmt.Fprintf(out, "store check:   %d users by ID walk", users)
	if sqlUsers >= 0 {
		fmt.Fprintf(out, ", %d by SQL count(*) with %d duplicated names", sqlUsers, sqlDups)
	}
	fmt.Fprintf(out, "; %d of %d 201 usernames found by UserByUsername with their own e-mail; lost %d, overwritten %d, duplicated %d; refused names held not exactly once %d\n",
		len(r.created)-lost-wrongOwner, len(r.created), lost, wrongOwner, dupStored, refusedMissing)
	bound := float64(slots) * defaultArgon2MemoryKiB / 1024
	fmt.Fprintf(out, "memory:        peak RSS (VmHWM, %s scope) %.0f MiB, highest 100 ms sample %.0f MiB; RSS before load %.0f MiB; argon2 working memory %d slots × %.0f MiB = %.0f MiB; Go heap sys %.0f MiB, %d GCs\n",
		scope, mib(peak), mib(sampled.Load()), mib(rssBefore), slots, float64(defaultArgon2MemoryKiB)/1024, bound, mib(ms.HeapSys), ms.NumGC)
	fmt.Fprintf(out, "5xx: %d   transport errors: %d   unexpected answers: %d\n", n5xx, nErr, r.unexpectedN)
	for _, l := range [][]string{r.fiveXX, r.transportErrs, r.unexpected} {
		for _, s := range l {
			fmt.Fprintf(out, "  %s\n", s)
		}
	}
	for i, p := range problems {
		if i == 20 {
			fmt.Fprintf(out, "  … and %d more problems\n", len(problems)-20)
			break
		}
		fmt.Fprintf(out, "  %s\n", p)
	}
	if n5xx > 0 || nErr > 0 || r.unexpectedN > 0 || len(problems) > 0 {
		return fmt.Errorf("soak FAILED: %d × 5xx, %d transport errors, %d unexpected answers, %d account problems", n5xx, nErr, r.unexpectedN, len(problems))
	}
	fmt.Fprintln(out, "soak PASSED: no 5xx, no transport error, every answer as expected, no account lost or duplicated")
	return nil
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// currentRSS reads VmRSS, the resident set now, in bytes (0 off Linux).
func currentRSS() uint64 { return procStatus("VmRSS:") }

// procStatus reads one kB field of /proc/self/status, such as "VmRSS:", in bytes.
func procStatus(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
