// Command server is a runnable restauth server: InvenTree 291's /api/auth/ and /api/user/
// routes, the anonymous GET /api/ that InvenTree clients call first, and GET /auth/ for a
// reverse proxy's auth_request.
//
//	go run ./examples/server                       # serve on 127.0.0.1:8000
//	go run ./examples/server createuser -username admin -email admin@example.com
//	go run ./examples/server token admin -name ci  # print a new API token once
//	go run ./examples/server mfa-reset alice       # remove a user's TOTP and recovery codes
//	go run ./examples/server deactivate alice      # refuse her logins, tokens and sessions
//	go run ./examples/server revoke alice          # revoke her tokens, end her sessions
//	go run ./examples/server delete alice          # delete her and all her records
//
// Flags come before the subcommand's own arguments; -help lists both (commands.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/headless"
)

func main() {
	os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv), os.Stderr))
}

// exitCode is the process's status for run's error, which it prints, one "server:" line
// per line of the error: 0 on success (and for -help), 2 for a command line that cannot
// run (already explained with the usage), 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintln(stderr, "server:", line)
	}
	return 1
}

// run is main without the process: tests call it with their own arguments and streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	opts, rest, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout)
		return nil
	}
	if err != nil {
		return err
	}
	name := "serve"
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		fmt.Fprintf(stderr, "unknown command %q (want %s)\n", name, commandNames())
		printUsage(stderr)
		return fmt.Errorf("%w: unknown command %q", errUsage, name)
	}
	do, err := cmd.parse(rest)
	if errors.Is(err, flag.ErrHelp) {
		printCommandUsage(stdout, cmd, commandFlags(cmd))
		return nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s\n", err)
		printCommandUsage(stderr, cmd, commandFlags(cmd))
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	opts.admin = cmd.admin
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	app, err := openApp(ctx, opts, logger, getenv)
	if err != nil {
		return err
	}
	defer app.close()
	return do(ctx, app, cmdEnv{opts: opts, logger: logger, stdin: stdin, stdout: stdout, getenv: getenv})
}

// listenAndServe is the serve command: it serves on -addr until SIGINT or SIGTERM.
func listenAndServe(ctx context.Context, app *app, env cmdEnv) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	ln, err := net.Listen("tcp", env.opts.addr)
	if err != nil {
		return err
	}
	if app.metrics != nil {
		_, stopMetrics, err := serveMetrics(env.opts.metricsAddr, app, env.logger)
		if err != nil {
			_ = ln.Close()
			return err
		}
		defer stopMetrics()
	}
	return serve(ctx, ln, app, env.logger)
}

// newMux mounts the library's /api/ tree (server information, /api/auth/, /api/user/ and
// InvenTree's JSON 404s), its /auth/ check for a reverse proxy's auth_request, and the
// headless dialect at /_allauth/ and /api/auth/v1/.
func newMux(svc *restauth.Service) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/api/", svc.APIHandler())
	mux.Handle("/auth/{$}", svc.AuthRequestHandler())
	// django-allauth's headless API: both clients at /_allauth/, and the browser client
	// where InvenTree's web UI (API 314 and later) looks for it.
	mux.Handle("/_allauth/", headless.Handler(svc, headless.Options{}))
	mux.Handle("/api/auth/v1/", headless.Handler(svc, headless.Options{Prefix: "/api/auth/", Client: headless.Browser}))
	return mux
}

// serve answers on ln until ctx ends, then shuts down gracefully (shutdown.go): it
// returns once the requests in flight are answered, their mail delivered and the stores
// closed, or with an error if that took longer than the app's grace.
func serve(ctx context.Context, ln net.Listener, app *app, logger *slog.Logger) error {
	handlers := &inflight{next: newMux(app.svc)}
	srv := newHTTPServer(handlers, logger)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	attrs := []any{"addr", "http://" + ln.Addr().String(), "store", app.storeName, "site", app.siteURL}
	if app.redis != nil {
		attrs = append(attrs, "redis", app.redis.String()) // the password redacted
	}
	logger.Info("restauth example server listening", attrs...)
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	err := shutdown(srv, handlers, app, logger)
	if serveErr == nil {
		serveErr = <-errc
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return errors.Join(serveErr, err)
}

// newHTTPServer is an http.Server for h with timeouts on every phase of a connection, for
// each of the server's listeners: a client that sends its request slowly, stops reading
// the answer or keeps a connection idle is cut off instead of holding a descriptor and a
// goroutine for ever.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
