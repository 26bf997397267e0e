package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

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
