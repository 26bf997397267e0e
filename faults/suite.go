package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"
)

// This file holds the suite's frame: the cases, their figures and the table they print.
// Each case starts its own example server (a child process, server.go), drives it with
// concurrent clients (client.go), injects one fault and checks the invariants that must
// hold through it. A broken invariant is a violation; the test (faults_test.go) fails on
// any, `go run ./faults` prints them under the table and exits 1.

// result is one case's figures, one row of the table.
type result struct {
	Case         string
	Requests     int           // HTTP requests sent during the case
	Acknowledged int           // answered 2xx: work the client was told succeeded
	Lost         int           // acknowledged writes missing afterwards
	Duplicates   int           // acknowledged writes stored more than once
	Status5xx    int           // answers 500-599 (503 is expected while a dependency is down)
	P99          time.Duration // 99th percentile latency of the requests during the fault
	RSS          string        // the server's resident memory (before→peak, or at the end)
	Notes        []string      // figures worth a line that fit no column
	Violations   []string      // invariants broken: the case fails
	Skipped      string        // why the case did not run (a missing binary)
}

// resultMu guards the rows' lists: cases add to them from their clients' goroutines.
var resultMu sync.Mutex

func (r *result) violate(format string, args ...any) {
	resultMu.Lock()
	defer resultMu.Unlock()
	r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
}

func (r *result) note(format string, args ...any) {
	resultMu.Lock()
	defer resultMu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// addTally copies a tally's counts into the row.
func (r *result) addTally(t *tally) {
	r.Requests += t.requests
	r.Acknowledged += t.acked
	r.Status5xx += t.status5xx
	if p := t.p99(); p > r.P99 {
		r.P99 = p
	}
}

// skipError marks a case that cannot run here (a binary is missing); it is no failure.
type skipError struct{ why string }

func (e skipError) Error() string { return e.why }

// faultCase is one fault with its checks.
type faultCase struct {
	name string
	run  func(ctx context.Context, e *env, r *result) error
}

// cases is the suite in the order it runs: the paused PostgreSQL comes after the
// crashes on it, which need it running.
var cases = []faultCase{
	{"kill9-sqlite", runKillSQLite},
	{"kill9-postgres", runKillPostgres},
	{"redis-sessions-down", runSessionsDown},
	{"smtp-blackhole", runSMTPBlackhole},
	{"smtp-refused", runSMTPRefused},
	{"postgres-paused", runPostgresPaused},
	{"oversize-announced", runOversizeAnnounced},
	{"oversize-chunked", runOversizeChunked},
	{"shared-limits", runSharedLimits},
	{"sigterm-under-load", runSigterm},
}

// runCase runs one case and turns a skip or an error into its row.
func runCase(ctx context.Context, e *env, c faultCase) result {
	r := result{Case: c.name}
	fmt.Fprintf(e.log, "faults: %s ...\n", c.name)
	start := time.Now()
	err := c.run(ctx, e, &r)
	switch se := (skipError{}); {
	case err == nil:
	case asSkip(err, &se):
		r.Skipped = se.why
	default:
		r.violate("case failed: %v", err)
	}
	fmt.Fprintf(e.log, "faults: %s done in %s\n", c.name, time.Since(start).Round(100*time.Millisecond))
	return r
}

func asSkip(err error, se *skipError) bool {
	s, ok := err.(skipError)
	if ok {
		*se = s
	}
	return ok
}

// maxViolationLines caps the violations printed per case: a fault that breaks every
// request says so in a few lines and a count.
const maxViolationLines = 4

// printTable writes the rows, then the notes and violations under them.
func printTable(w io.Writer, rows []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\trequests\tacknowledged\tlost\tduplicates\t5xx\tp99 (fault)\tRSS\tverdict\t")
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\tskipped\t\n", r.Case)
			continue
		}
		if r.RSS == "" {
			r.RSS = "-"
		}
		verdict := "ok"
		if len(r.Violations) > 0 {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", r.Case, r.Requests, r.Acknowledged, r.Lost,
			r.Duplicates, r.Status5xx, fmtDuration(r.P99), r.RSS, verdict)
	}
	_ = tw.Flush()
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(w, "%s: skipped: %s\n", r.Case, r.Skipped)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "%s: %s\n", r.Case, n)
		}
		for i, v := range r.Violations {
			if i == maxViolationLines {
				fmt.Fprintf(w, "%s: VIOLATION: ... and %d more\n", r.Case, len(r.Violations)-i)
				break
			}
			fmt.Fprintf(w, "%s: VIOLATION: %s\n", r.Case, v)
		}
	}
}

func fmtDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

func fmtMB(kib int64) string { return fmt.Sprintf("%dMB", (kib+512)/1024) }

// scale sizes the load. The default is small enough for CI on two shared cores and still
// crosses every threshold that matters (more mails than the mailer's 64 slots, more
// wrong passwords than the limit on two instances); heavy is the load of issue #17's run.
type scale struct {
	killRounds     int // crashes per store
	killAcks       int // acknowledged registrations before each crash
	workers        int // concurrent clients
	mailUsers      int // users whose addresses get mail in the SMTP cases
	resetsPerUser  int // password resets per such user
	oversizeBodies int // parallel oversize bodies
	sessionLogins  int // logins while Redis is down
	pausedRequests int // requests while PostgreSQL is frozen
	sigtermAcks    int // acknowledged registrations before SIGTERM
}

var (
	defaultScale = scale{killRounds: 2, killAcks: 15, workers: 8, mailUsers: 25, resetsPerUser: 2,
		oversizeBodies: 300, sessionLogins: 20, pausedRequests: 20, sigtermAcks: 10}
	heavyScale = scale{killRounds: 6, killAcks: 100, workers: 24, mailUsers: 60, resetsPerUser: 4,
		oversizeBodies: 300, sessionLogins: 100, pausedRequests: 100, sigtermAcks: 60}
)

// pickScale reads RESTAUTH_FAULTS_HEAVY (any non-empty value but 0).
func pickScale(heavy bool) scale {
	if v := os.Getenv("RESTAUTH_FAULTS_HEAVY"); heavy || (v != "" && v != "0") {
		return heavyScale
	}
	return defaultScale
}

// repoRoot finds the workspace root (the directory holding go.work) above dir.
func repoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "examples", "server")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work with examples/server above %s", dir)
		}
	}
}
