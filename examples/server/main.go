// Command server is a runnable restauth server: InvenTree 291's /api/auth/ and /api/user/
// routes, plus an anonymous GET /api/ that InvenTree clients call first.
//
//	go run ./examples/server                       # serve on 127.0.0.1:8000
//	go run ./examples/server createuser -username admin -email admin@example.com
//	go run ./examples/server token admin -name ci  # print a new API token once
//	go run ./examples/server mfa-reset alice       # remove a user's TOTP and recovery codes
//
// Flags come before the subcommand's own arguments; see -help.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/restauth/restauth"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run is main without the process: tests call it with their own arguments and streams.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	opts, rest, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	app, err := openApp(ctx, opts, logger, getenv)
	if err != nil {
		return err
	}
	defer app.close()

	if len(rest) > 0 {
		switch rest[0] {
		case "createuser":
			return createUser(ctx, app, rest[1:], stdin, stdout, getenv)
		case "token":
			return issueToken(ctx, app, rest[1:], stdout)
		case "mfa-reset":
			return resetMFA(ctx, app, rest[1:], stdout)
		case "serve":
		default:
			return fmt.Errorf("unknown command %q (want serve, createuser, token or mfa-reset)", rest[0])
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return err
	}
	return serve(ctx, ln, app, logger)
}

// newMux mounts the library's two handlers and the server-info route.
func newMux(svc *restauth.Service) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/api/auth/", svc.Handler())
	mux.Handle("/api/user/", svc.UserHandler())
	info, _ := json.Marshal(struct {
		Server     string `json:"server"`
		APIVersion int    `json:"apiVersion"`
		Version    string `json:"version"`
	}{"restauth", restauth.APIVersion, restauth.Version})
	mux.HandleFunc("GET /api/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = w.Write(info)
	})
	return mux
}

// serve answers on ln until ctx ends, then shuts down gracefully (shutdown.go): it
// returns once the requests in flight are answered, their mail delivered and the stores
// closed, or with an error if that took longer than the app's grace.
func serve(ctx context.Context, ln net.Listener, app *app, logger *slog.Logger) error {
	handlers := &inflight{next: newMux(app.svc)}
	srv := &http.Server{
		Handler:           handlers,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("restauth example server listening", "addr", "http://"+ln.Addr().String(), "store", app.storeName, "site", app.siteURL)
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
