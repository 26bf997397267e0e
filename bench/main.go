// Command bench measures restauth's token-authenticated GET /api/auth/user/ against a bare
// net/http handler that does the least the same endpoint can do, in one run on one
// machine, and reports the throughput ratio; then it measures logins against the
// password hash's ceiling. See README.md for how to run it and read it.
//
//	go run ./bench                       # from the repository root
//	go run ./bench -dsn postgres://…     # also pgstore
//	go run . -d 1s -rounds 1 -login-d 2s # a quick look, from bench/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// options are the command's flags.
type options struct {
	workers    int
	dur        time.Duration
	rounds     int
	warmup     time.Duration
	dsn        string
	jsonPath   string
	svgPath    string
	login      bool
	loginDur   time.Duration
	loginConc  int
	cpuProfile string
	// The soak of issue 6 (soak.go) replaces the measurement when soak is set.
	soak      bool
	soakConc  int
	soakDur   time.Duration
	soakStore string
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// Ctrl-C ends the current round early and still runs the cleanup (temp files, the
	// PostgreSQL schema) before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

// parseFlags reads the command line; usage and flag errors go to errOut.
func parseFlags(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.IntVar(&o.workers, "c", 32, "concurrent `workers` (keep-alive connections) per GET round")
	fs.DurationVar(&o.dur, "d", 3*time.Second, "`duration` of each target's GET round")
	fs.IntVar(&o.rounds, "rounds", 3, "`rounds`: each runs every target once, alternating, so drift affects all alike")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unrecorded warm-up per target before the first round")
	fs.StringVar(&o.dsn, "dsn", "", "PostgreSQL `DSN`: also measure pgstore, in a random schema dropped afterwards (default $RESTAUTH_TEST_POSTGRES_DSN)")
	fs.StringVar(&o.jsonPath, "json", defaultOut("results.json"), "write the results as JSON to `file` (empty: do not)")
	fs.StringVar(&o.svgPath, "svg", defaultOut("results.svg"), "write the bar chart of the ratios as SVG to `file` (empty: do not)")
	fs.BoolVar(&o.login, "login", true, "run the login rounds (pbkdf2_sha256 600k and argon2id defaults)")
	fs.DurationVar(&o.loginDur, "login-d", 20*time.Second, "`duration` of each login round")
	fs.IntVar(&o.loginConc, "login-c", 200, "concurrent `logins` in the login rounds")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the GET rounds to `file`, labelled side=client|server and target=NAME")
	fs.BoolVar(&o.soak, "soak", false, "run the soak instead: concurrent clients register, log in right and wrong, get a token, log out; then the store is checked (see README.md)")
	fs.IntVar(&o.soakConc, "soak-c", 200, "concurrent `clients` in the soak")
	fs.DurationVar(&o.soakDur, "soak-d", 20*time.Second, "`duration` of the soak (requests in flight at the end are let finish)")
	fs.StringVar(&o.soakStore, "soak-store", "sqlite", "`store` of the soak: sqlite (a temporary file) or mem")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.dsn == "" {
		// Read after parsing, not as the flag's default, so -h never prints a password
		// the DSN may hold.
		o.dsn = os.Getenv("RESTAUTH_TEST_POSTGRES_DSN")
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.workers < 1 || o.rounds < 1 || o.dur <= 0 || o.warmup < 0 || o.loginConc < 1 || o.loginDur <= 0 {
		return o, errors.New("-c, -rounds, -d, -login-c and -login-d must be positive, -warmup not negative")
	}
	if o.soakConc < 1 || o.soakConc > 10000 || o.soakDur <= 0 || o.soakDur > 10*time.Minute {
		return o, errors.New("-soak-c must be 1 to 10000 and -soak-d positive, at most 10m")
	}
	if o.soakStore != "sqlite" && o.soakStore != "mem" {
		return o, fmt.Errorf("-soak-store %q: want sqlite or mem", o.soakStore)
	}
	return o, nil
}

// defaultOut places an output file in bench/, whether the command runs from the
// repository root (go run ./bench) or from bench/ itself (go run .).
func defaultOut(name string) string {
	if b, err := os.ReadFile("go.mod"); err == nil && strings.Contains(string(b), "module github.com/restauth/restauth/bench\n") {
		return name
	}
	if fi, err := os.Stat("bench"); err == nil && fi.IsDir() {
		return filepath.Join("bench", name)
	}
	return name
}

// run does the whole measurement: GET rounds, login rounds, table, JSON, SVG. Progress
// goes to progress, the table to out.
func run(ctx context.Context, o options, out, progress io.Writer) error {
	started := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "%6.1fs  %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
	}
	rep := &report{
		Started: started,
		Machine: machineInfo{
			CPUModel: cpuModel(), NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
			GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, LoadAtStart: loadAvg(),
		},
		Settings: settings{
			Workers: o.workers, RoundS: o.dur.Seconds(), Rounds: o.rounds, WarmupS: o.warmup.Seconds(),
			Postgres: o.dsn != "", Login: o.login, LoginS: o.loginDur.Seconds(), LoginWorkers: o.loginConc,
			LoadGenerator: "in-process closed loop, net/http keep-alive clients",
		},
	}
	m := rep.Machine
	if o.soak {
		logf("%d CPUs (%s), GOMAXPROCS %d, %s, load average %s", m.NumCPU, m.CPUModel, m.GOMAXPROCS, m.GoVersion, m.LoadAtStart)
		err := runSoak(ctx, o, out, logf)
		fmt.Fprintf(out, "\nrun took %.0fs; load average %s at start, %s at end\n", time.Since(started).Seconds(), m.LoadAtStart, loadAvg())
		return err
	}
	logf("%d CPUs (%s), GOMAXPROCS %d, %s, load average %s", m.NumCPU, m.CPUModel, m.GOMAXPROCS, m.GoVersion, m.LoadAtStart)
	logf("planned length: about %s of load, plus set-up and hashing", expectedDuration(o).Round(time.Second))

	targets, err := startTargets(ctx, o, logf)
	defer func() {
		for _, t := range targets {
			t.close()
		}
	}()
	if err != nil {
		return err
	}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	segs, err := getRounds(ctx, o, targets, logf)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile() // the login rounds would only show hashing
		logf("wrote the CPU profile of the GET rounds to %s", o.cpuProfile)
	}
	if err != nil {
		return err
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
		t.close()
	}
	targets = nil // closed: the login rounds get the machine to themselves
	rep.Targets = summarize(names, segs)

	if o.login {
		for _, hc := range hasherCases() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res, err := runLogin(ctx, hc, o.loginConc, o.loginDur, logf)
			if err != nil {
				return fmt.Errorf("login round %s: %w", hc.label, err)
			}
			rep.Logins = append(rep.Logins, res)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	rep.Machine.LoadAtEnd = loadAvg()
	rep.WallS = time.Since(started).Seconds()
	printTable(out, rep)
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, rep); err != nil {
			return err
		}
	}
	if o.svgPath != "" {
		if err := writeFile(o.svgPath, renderSVG(rep)); err != nil {
			return err
		}
	}
	var wrote []string
	for _, p := range []string{o.jsonPath, o.svgPath} {
		if p != "" {
			wrote = append(wrote, p)
		}
	}
	fmt.Fprintf(out, "\nrun took %.0fs; load average %s at start, %s at end\n", rep.WallS, rep.Machine.LoadAtStart, rep.Machine.LoadAtEnd)
	if len(wrote) > 0 {
		fmt.Fprintf(out, "wrote %s\n", strings.Join(wrote, " and "))
	}
	return nil
}

// expectedDuration is the run's length from its flags, set-up and hashing aside: the
// default run's is what keeps it under the 3 minutes issue 7 allows.
func expectedDuration(o options) time.Duration {
	n := 6 // bare, memstore, sqlitestore (plain, cached, 100k tokens), headless
	if o.dsn != "" {
		n += 2
	}
	d := time.Duration(n) * (o.warmup + time.Duration(o.rounds)*o.dur)
	if o.login {
		d += time.Duration(len(hasherCases())) * o.loginDur
	}
	return d
}

// startTargets starts the bare handler and restauth on each store, checks that each
// answers the seeded user, and returns them with the bare handler first. On error the
// targets started so far are returned too, for the caller to close.
func startTargets(ctx context.Context, o options, logf func(string, ...any)) ([]*target, error) {
	var targets []*target
	add := func(t *target, err error) error {
		if t != nil {
			targets = append(targets, t)
		}
		return err
	}
	// memstore first: its answer becomes the bare handler's fixed body.
	if err := add(newMemTarget(ctx)); err != nil {
		return targets, fmt.Errorf("memstore: %w", err)
	}
	probe := newClient(1)
	defer probe.CloseIdleConnections()
	body, err := fetchUser(ctx, probe, targets[0])
	if err != nil {
		return targets, err
	}
	if err := add(newBareTarget(body)); err != nil {
		return targets, fmt.Errorf("bare handler: %w", err)
	}
	if err := add(newSQLiteTarget(ctx, "restauth sqlitestore", noCache)); err != nil {
		return targets, fmt.Errorf("sqlitestore: %w", err)
	}
	if err := add(newSQLiteTarget(ctx, "restauth sqlitestore +cache", benchCache)); err != nil {
		return targets, fmt.Errorf("sqlitestore with the cache: %w", err)
	}
	if err := add(newSQLiteManyTarget(ctx, manyTokens, logf)); err != nil {
		return targets, fmt.Errorf("sqlitestore with %d tokens: %w", manyTokens, err)
	}
	if o.dsn != "" {
		if err := add(newPGTarget(ctx, o.dsn, "restauth pgstore", noCache)); err != nil {
			return targets, fmt.Errorf("pgstore: %w", err)
		}
		if err := add(newPGTarget(ctx, o.dsn, "restauth pgstore +cache", benchCache)); err != nil {
			return targets, fmt.Errorf("pgstore with the cache: %w", err)
		}
	}
	if err := add(newHeadlessTarget(ctx)); err != nil {
		return targets, fmt.Errorf("headless: %w", err)
	}
	// The bare handler leads: summarize and the chart take the first target as reference.
	targets[0], targets[1] = targets[1], targets[0]
	for _, t := range targets {
		got, err := fetchUser(ctx, probe, t)
		if err != nil {
			return targets, err
		}
		if t == targets[0] && string(got) != string(body) {
			return targets, fmt.Errorf("bare handler answered %q, want %q", got, body)
		}
		logf("started %-22s on %s", t.name, t.baseURL)
	}
	return targets, nil
}

// getRounds warms every target up, then runs the rounds: each round drives every target
// once for o.dur, alternating, so that a change in the machine's load during the run
// lands on all targets rather than on whichever ran last. Odd rounds go in reverse order,
// so no target always follows the same neighbour. It returns each target's segments in
// round order.
func getRounds(ctx context.Context, o options, targets []*target, logf func(string, ...any)) ([][]*segment, error) {
	clients := make([]*http.Client, len(targets))
	for i, t := range targets {
		clients[i] = newClient(o.workers)
		defer clients[i].CloseIdleConnections()
		if o.warmup > 0 {
			seg := runLoad(ctx, getSpec(o, t, clients[i], o.warmup))
			if n := seg.errors + seg.nonOK(); n > 0 {
				return nil, fmt.Errorf("%s: %d errors or non-200 answers during warm-up", t.name, n)
			}
		}
	}
	if o.warmup > 0 {
		logf("warmed up %d targets for %s each", len(targets), o.warmup)
	}

	segs := make([][]*segment, len(targets))
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	for round := range o.rounds {
		for _, i := range order {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			seg := runLoad(ctx, getSpec(o, targets[i], clients[i], o.dur))
			segs[i] = append(segs[i], seg)
			logf("round %d/%d  %-22s %9s req/s  p50 %7s  p99 %7s  errors %d",
				round+1, o.rounds, targets[i].name, thousands(seg.rate()),
				fmtDur(seg.hist.Quantile(0.5)), fmtDur(seg.hist.Quantile(0.99)), seg.errors+seg.nonOK())
		}
		slices.Reverse(order)
	}
	return segs, nil
}

// getSpec is the GET load on t: its route, with its credential (a random one of
// t.tokens per request when it has them).
func getSpec(o options, t *target, client *http.Client, d time.Duration) loadSpec {
	url := t.baseURL + t.route()
	name, value := t.credential(t.token)
	spec := loadSpec{
		workers:  o.workers,
		duration: d,
		client:   client,
		reuse:    true,
		newRequest: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set(name, value)
			return req, nil
		},
	}
	if len(t.tokens) > 0 {
		// The header values are built once, so that picking one costs the load generator
		// a random number and a map write, not an allocation.
		values := make([][]string, len(t.tokens))
		for i, k := range t.tokens {
			_, v := t.credential(k)
			values[i] = []string{v}
		}
		key := http.CanonicalHeaderKey(name)
		spec.beforeSend = func(req *http.Request, rng *rand.Rand) { req.Header[key] = values[rng.IntN(len(values))] }
	}
	return spec
}
