package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file starts the private PostgreSQL and Redis the cases stop, freeze and kill:
// never the machine's shared ones (5432, 6379), which other work relies on.

// postgres is a private PostgreSQL cluster in a scratch directory.
type postgres struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
	dsn  string // of its "postgres" database, as user postgres
}

// pgBinDir finds initdb and postgres: pg_config --bindir, else Debian's layout.
func pgBinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	return "", skipError{"PostgreSQL's initdb not found (pg_config --bindir, /usr/lib/postgresql/*/bin)"}
}

// asPostgresUser makes a command run as the postgres user when the suite runs as root:
// initdb and postgres refuse to run as root. It returns the uid and gid to own files.
func asPostgresUser(attr *syscall.SysProcAttr) (uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return -1, -1, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, skipError{"running as root and there is no postgres user to run PostgreSQL as"}
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	return uid, gid, nil
}

func startPostgres(ctx context.Context, log io.Writer) (*postgres, error) {
	bin, err := pgBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "restauth-faults-pg-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &postgres{dir: dir, port: port, done: make(chan struct{}),
		dsn: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	attr := func() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL} }
	initAttr := attr()
	uid, gid, err := asPostgresUser(initAttr)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = initAttr
	initdb.Dir = dir // the postgres user may not enter the suite's own directory
	if out, err := initdb.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	p.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=200")
	p.cmd.SysProcAttr = attr()
	p.cmd.Dir = dir
	p.cmd.SysProcAttr.Credential = initAttr.Credential
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err == nil {
		defer logf.Close()
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
	}
	if err := p.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	if err := waitListening(loopback(port), 30*time.Second, p.done); err != nil {
		p.stop()
		return nil, fmt.Errorf("private postgres: %w", err)
	}
	// Listening is not ready: until recovery ends it answers "the database system is
	// starting up".
	ready, _ := waitFor(30*time.Second, func() bool {
		return exec.Command(filepath.Join(bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(port)).Run() == nil
	})
	if !ready {
		p.stop()
		return nil, fmt.Errorf("private postgres on port %d not ready after 30 s", port)
	}
	fmt.Fprintf(log, "faults: private PostgreSQL on port %d (%s)\n", port, dir)
	return p, nil
}

// freeze stops the postmaster and then every backend: each backend leads its own
// process group (PostgreSQL calls setsid), so a signal to the postmaster's group misses
// them. The postmaster goes first so that it forks no backend the walk would miss.
func (p *postgres) freeze() error {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	for _, pid := range childPIDs(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
	}
	return nil
}

// thaw resumes what freeze stopped.
func (p *postgres) thaw() error {
	for _, pid := range childPIDs(p.cmd.Process.Pid) {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
	return p.cmd.Process.Signal(syscall.SIGCONT)
}

// childPIDs lists the processes whose parent is pid, from /proc.
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if procStatus(child, "PPid") == int64(pid) {
			pids = append(pids, child)
		}
	}
	return pids
}

func (p *postgres) stop() {
	_ = p.thaw()
	_ = p.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		for _, pid := range childPIDs(p.cmd.Process.Pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	_ = os.RemoveAll(p.dir)
}

// redis is a private redis-server without persistence.
type redis struct {
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func (r *redis) addr() string { return loopback(r.port) }

// startRedis starts redis-server on port (0: a free one).
func startRedis(port int) (*redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, skipError{"redis-server not found on PATH"}
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	r := &redis{port: port, done: make(chan struct{})}
	r.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	if err := waitListening(r.addr(), 10*time.Second, r.done); err != nil {
		r.kill()
		return nil, fmt.Errorf("private redis: %w", err)
	}
	return r, nil
}

// kill ends Redis at once, as a crash would.
func (r *redis) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// waitListening waits until addr accepts connections, or exited closes, or limit passes.
func waitListening(addr string, limit time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on %s", addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("nothing listens on %s after %s", addr, limit)
}
