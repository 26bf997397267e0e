package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// TestMetricsAddr serves restauth's metrics with -metrics-addr: after a registration, a
// login and a failed login, /metrics reports them in Prometheus's format.
func TestMetricsAddr(t *testing.T) {
	o, _, err := parseFlags([]string{"-store", "memory", "-metrics-addr", "127.0.0.1:0"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:0", o.metricsAddr)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := openApp(context.Background(), o, logger, testEnv)
	require.NoError(t, err)
	t.Cleanup(a.close)
	require.NotNil(t, a.metrics)

	ctx := context.Background()
	const password = "a-long-passphrase"
	_, err = a.svc.Register(ctx, restauth.RegisterRequest{Username: "walter", Password1: password, Password2: password})
	require.NoError(t, err)
	_, err = a.svc.Login(ctx, restauth.LoginRequest{Username: "walter", Password: password})
	require.NoError(t, err)
	_, err = a.svc.Login(ctx, restauth.LoginRequest{Username: "walter", Password: "not-" + password})
	require.ErrorIs(t, err, restauth.ErrInvalidCredentials)

	addr, stop, err := serveMetrics("127.0.0.1:0", a, logger)
	require.NoError(t, err)
	t.Cleanup(stop)
	res, err := http.Get("http://" + addr + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	body := string(raw)

	sample := func(name string, labels ...string) string {
		for line := range strings.SplitSeq(body, "\n") {
			if !strings.HasPrefix(line, name+"{") {
				continue
			}
			matched := true
			for _, l := range labels {
				matched = matched && strings.Contains(line, l)
			}
			if matched {
				return line[strings.LastIndex(line, " ")+1:]
			}
		}
		return ""
	}
	assert.Equal(t, "1", sample("restauth_logins_total", `restauth_login_method="password"`, `restauth_login_result="success"`), body)
	assert.Equal(t, "1", sample("restauth_logins_total", `restauth_login_result="failure"`), body)
	assert.Equal(t, "1", sample("restauth_registrations_total", `restauth_registration_method="password"`), body)
	assert.Equal(t, "0", sample("restauth_password_hash_queued"), body)
	assert.NotEmpty(t, sample("restauth_store_operation_duration_seconds_count", `restauth_store_operation="CreateUser"`), body)
	assert.NotEmpty(t, sample("restauth_password_hash_wait_duration_seconds_count"), body)
}

// TestMetricsOnlyForServe: the admin commands run once and exit, so they build no
// metrics (and open no listener).
func TestMetricsOnlyForServe(t *testing.T) {
	o, _, err := parseFlags([]string{"-store", "memory", "-metrics-addr", "127.0.0.1:0"}, io.Discard)
	require.NoError(t, err)
	o.admin = true
	a, err := openApp(context.Background(), o, slog.New(slog.NewTextHandler(io.Discard, nil)), testEnv)
	require.NoError(t, err)
	t.Cleanup(a.close)
	assert.Nil(t, a.metrics)
}

// pipeListener is a net.Listener of in-memory connections (net.Pipe), whose deadlines
// follow a synctest bubble's fake clock.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// dial connects a new client; its server end goes to Accept.
func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9464} }

// TestMetricsListenerDropsIdleAndStalledClients: the -metrics-addr listener ends a
// keep-alive connection that stays idle and an answer its client does not read, as the
// API's listener does. It had a header timeout only, so a client that kept connections
// idle, or stopped reading, held each one (a descriptor and a goroutine) for ever.
func TestMetricsListenerDropsIdleAndStalledClients(t *testing.T) {
	_, handler, err := newMetrics()
	require.NoError(t, err)
	a := &app{metrics: handler}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	const request = "GET /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n"
	synctest.Test(t, func(t *testing.T) {
		ln := newPipeListener()
		stop := serveMetricsOn(ln, a, logger)
		defer stop()

		idle := ln.dial()
		defer idle.Close()
		_, err := io.WriteString(idle, request)
		require.NoError(t, err)
		br := bufio.NewReader(idle)
		res, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.NoError(t, idle.SetReadDeadline(time.Now().Add(time.Hour)))
		_, err = br.ReadByte()
		assert.ErrorIs(t, err, io.EOF, "an idle connection is closed by the server within the hour")

		stalled := ln.dial()
		defer stalled.Close()
		_, err = io.WriteString(stalled, request)
		require.NoError(t, err)
		require.NoError(t, stalled.SetReadDeadline(time.Now().Add(2*time.Hour)))
		time.Sleep(time.Hour) // the client reads nothing meanwhile
		_, err = io.ReadAll(stalled)
		assert.NoError(t, err, "an answer nobody reads is given up (the connection ends) within the hour")
	})
}
