package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// env is what the cases share: the server binary, a scratch directory, the load's scale
// and the private PostgreSQL and Redis, started on first use and stopped by close.
type env struct {
	root      string // the workspace root
	dir       string // scratch directory, removed by close
	serverBin string
	scale     scale
	log       io.Writer

	// flags are the server binary's flags (from -help): a binary built from an older
	// commit (RESTAUTH_FAULTS_SERVER) may lack some the cases pass, which are then left
	// out, so that the suite shows what the older server does under the same faults.
	flags map[string]bool

	pgOnce sync.Once
	pg     *postgres
	pgErr  error
}

// newEnv builds examples/server into a scratch directory, or takes the binary
// RESTAUTH_FAULTS_SERVER names (one built from an older commit, to compare).
func newEnv(ctx context.Context, root string, sc scale, log io.Writer) (*env, error) {
	dir, err := os.MkdirTemp("", "restauth-faults-")
	if err != nil {
		return nil, err
	}
	e := &env{root: root, dir: dir, scale: sc, log: log, serverBin: os.Getenv("RESTAUTH_FAULTS_SERVER")}
	if e.serverBin == "" {
		e.serverBin = filepath.Join(dir, "server")
		build := exec.CommandContext(ctx, "go", "build", "-o", e.serverBin, "./examples/server")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("go build ./examples/server: %w\n%s", err, out)
		}
	} else {
		fmt.Fprintf(log, "faults: testing the server binary %s\n", e.serverBin)
	}
	help, _ := exec.CommandContext(ctx, e.serverBin, "-help").CombinedOutput()
	e.flags = map[string]bool{}
	for line := range strings.Lines(string(help)) {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "-") && strings.HasPrefix(line, "  -") {
			e.flags[f[0]] = true
		}
	}
	return e, nil
}

// postgres starts the private PostgreSQL once; later calls return the same one.
func (e *env) postgres(ctx context.Context) (*postgres, error) {
	e.pgOnce.Do(func() { e.pg, e.pgErr = startPostgres(ctx, e.log) })
	return e.pg, e.pgErr
}

func (e *env) close() {
	if e.pg != nil {
		e.pg.stop()
	}
	if os.Getenv("RESTAUTH_FAULTS_KEEP") != "" {
		fmt.Fprintf(e.log, "faults: servers' logs kept in %s\n", e.dir)
		return
	}
	_ = os.RemoveAll(e.dir)
}

// freePort asks the kernel for a free TCP port on the loopback address.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
