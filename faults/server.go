package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// This file runs examples/server as a child process: started on a free port, waited for
// until it answers, killed or stopped, its memory read from /proc.

// testSecret keys the servers' sessions and links, the same across restarts.
const testSecret = "faults-suite-secret-0123456789abcdef"

// server is one running example server.
type server struct {
	label  string
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	logs   string // its stdout and stderr
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed

	peakMu  sync.Mutex
	peakKiB int64
	stopRSS chan struct{}
}

// startServer starts the example server with args (after -addr) and waits until GET
// /api/ answers. Its log goes to label.log in the scratch directory.
func (e *env) startServer(ctx context.Context, label string, args ...string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.dir, label+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(e.serverBin, append([]string{"-addr", loopback(port)}, e.supported(args)...)...)
	cmd.Env = append(os.Environ(), "RESTAUTH_SECRET="+testSecret)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{label: label, cmd: cmd, base: "http://" + loopback(port), logs: logPath, exited: make(chan struct{})}
	go func() { s.err = cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("server %s exited at start (%v): %s", label, s.err, s.logTail())
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get(s.base + "/api/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("server %s did not answer within 60 s: %s", label, s.logTail())
		}
	}
}

// supported drops the "-flag value" pairs of args the binary does not know.
func (e *env) supported(args []string) []string {
	var kept []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") && !e.flags[args[i]] && i+1 < len(args) {
			fmt.Fprintf(e.log, "faults: the server has no %s flag: left out\n", args[i])
			i++
			continue
		}
		kept = append(kept, args[i])
	}
	return kept
}

// kill ends the server with SIGKILL and waits for it.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

// terminate sends SIGTERM and waits up to limit; it returns the exit code (-1 if the
// server had to be killed) and how long the shutdown took.
func (s *server) terminate(limit time.Duration) (int, time.Duration) {
	start := time.Now()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(limit):
		s.kill()
		return -1, time.Since(start)
	}
	return s.cmd.ProcessState.ExitCode(), time.Since(start)
}

// rssKiB reads the server's VmRSS from /proc (0 if it cannot).
func (s *server) rssKiB() int64 { return procStatus(s.cmd.Process.Pid, "VmRSS") }

// procStatus reads one "Name: N kB" line of /proc/PID/status.
func procStatus(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if ok && name == field {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// sampleRSS records the highest VmRSS every 10 ms until peakRSS is called.
func (s *server) sampleRSS() {
	s.stopRSS = make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if kib := s.rssKiB(); kib > 0 {
				s.peakMu.Lock()
				s.peakKiB = max(s.peakKiB, kib)
				s.peakMu.Unlock()
			}
			select {
			case <-t.C:
			case <-s.stopRSS:
				return
			}
		}
	}()
}

// peakRSS stops the sampling and returns the highest VmRSS it saw.
func (s *server) peakRSS() int64 {
	close(s.stopRSS)
	s.peakMu.Lock()
	defer s.peakMu.Unlock()
	return s.peakKiB
}

// logTail is the end of the server's log, for errors.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logs)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// logCount counts the lines of the server's log that contain substr.
func (s *server) logCount(substr string) int {
	b, _ := os.ReadFile(s.logs)
	return strings.Count(string(b), substr)
}
