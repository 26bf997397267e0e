// Command faults is restauth's fault suite: it builds examples/server, runs it as a child
// process under concurrent clients, injects faults (kill -9 on SQLite and PostgreSQL, the
// session Redis killed, SMTP black-holed and refused, PostgreSQL frozen, oversize
// bodies, two instances sharing a limiter, SIGTERM under load) and prints one row of
// figures per fault: requests, acknowledged, lost, duplicates, 5xx, p99 during the
// fault, RSS. It exits 1 when an invariant broke.
//
//	go run ./faults                 # the default load (the one CI runs as go test ./faults/...)
//	go run ./faults -heavy          # issue #17's load (or RESTAUTH_FAULTS_HEAVY=1)
//	go run ./faults -run 'kill9'    # only the cases matching a regexp
//
// It starts its own PostgreSQL (as the postgres user when run as root: initdb and
// postgres refuse root) and Redis on free ports and never touches the machine's. A case
// whose binary is missing is skipped with the reason.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"
)

func main() {
	heavy := flag.Bool("heavy", false, "issue #17's heavier load (also RESTAUTH_FAULTS_HEAVY=1)")
	only := flag.String("run", "", "run only the cases whose name matches this regexp")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rows, err := runSuite(ctx, pickScale(*heavy), *only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	printTable(os.Stdout, rows)
	for _, r := range rows {
		if len(r.Violations) > 0 {
			os.Exit(1)
		}
	}
}

// runSuite builds the server and runs the cases matching only (all when empty).
func runSuite(ctx context.Context, sc scale, only string) ([]result, error) {
	match, err := regexp.Compile(only)
	if err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := repoRoot(wd)
	if err != nil {
		return nil, err
	}
	e, err := newEnv(ctx, root, sc, os.Stderr)
	if err != nil {
		return nil, err
	}
	defer e.close()
	var rows []result
	for _, c := range cases {
		if match.MatchString(c.name) {
			rows = append(rows, runCase(ctx, e, c))
		}
	}
	return rows, nil
}
