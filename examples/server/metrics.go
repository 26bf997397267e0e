package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/otlptranslator"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// This file is the -metrics-addr flag: restauth's OpenTelemetry metrics (the README's
// "Metrics and traces"), read by OpenTelemetry's Prometheus exporter and served as
// /metrics on a listener of their own, so that the API's public address does not expose
// them.

// newMetrics builds a MeterProvider whose metrics the returned handler serves in
// Prometheus's text format. The registry is the server's own, not Prometheus's global
// one, so tests can build many.
func newMetrics() (*sdkmetric.MeterProvider, http.Handler, error) {
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg),
		// Prometheus's conventional names (restauth_logins_total,
		// restauth_store_operation_duration_seconds), fixed rather than left to the
		// exporter's default, which follows a global validation setting.
		otelprom.WithTranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes))
	if err != nil {
		return nil, nil, err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return provider, mux, nil
}

// serveMetrics serves the app's metrics on addr until stop is called, and returns the
// address it listens on; a failure to listen is returned at once, so a mistyped
// -metrics-addr stops the server at start.
func serveMetrics(addr string, a *app, logger *slog.Logger) (bound string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	return ln.Addr().String(), serveMetricsOn(ln, a, logger), nil
}

// serveMetricsOn serves the app's metrics on ln until stop is called.
func serveMetricsOn(ln net.Listener, a *app, logger *slog.Logger) (stop func()) {
	// The API's timeouts: this listener is as reachable as -metrics-addr makes it.
	srv := newHTTPServer(a.metrics, logger)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", "error", err)
		}
	}()
	logger.Info("restauth example server metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { _ = srv.Close() }
}
