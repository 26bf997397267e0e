package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// app is an opened store and the Service built on it.
type app struct {
	svc       *restauth.Service
	store     restauth.Store
	storeName string
	siteURL   string
	// sessionStore is set by stores that can keep scs sessions in their own database, so
	// that several server instances on one database share sessions.
	sessionStore scs.Store
	// redis is the Redis server of -redis or $RESTAUTH_REDIS_URL, parsed once for the
	// sessions and the limiter; nil when neither uses Redis.
	redis     *redisTarget
	closers   []func()
	closeOnce sync.Once

	// grace bounds a shutdown (-shutdown-grace); after is its clock, time.After but for
	// tests, which end the grace by hand.
	grace time.Duration
	after func(time.Duration) <-chan time.Time

	// metrics serves /metrics (-metrics-addr); nil without the flag.
	metrics http.Handler
}

// close closes the stores and clients, newest first, once; later calls do nothing.
func (a *app) close() {
	a.closeOnce.Do(func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closers[i]()
		}
	})
}

// abandon makes close do nothing: a shutdown whose handlers are still running leaves the
// stores open rather than fail those requests with "database is closed"; the process exit
// ends them.
func (a *app) abandon() { a.closeOnce.Do(func() {}) }

// storeOpener opens one kind of store; it may register closers on the app.
type storeOpener func(ctx context.Context, o *options, a *app) (restauth.Store, error)

var storeOpeners = map[string]storeOpener{
	"memory": func(context.Context, *options, *app) (restauth.Store, error) { return memstore.New(), nil },
}

const defaultStore = "sqlite"

func storeNames() []string {
	names := make([]string, 0, len(storeOpeners))
	for n := range storeOpeners {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func openApp(ctx context.Context, o *options, logger *slog.Logger, getenv func(string) string) (*app, error) {
	a := &app{storeName: o.store, siteURL: o.siteURL, grace: o.grace, after: time.After}
	open, ok := storeOpeners[o.store]
	if !ok {
		return nil, fmt.Errorf("unknown -store %q (want one of %v)", o.store, storeNames())
	}
	store, err := open(ctx, o, a)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("open %s store: %w", o.store, err)
	}
	if o.wrapStore != nil {
		store = o.wrapStore(store)
	}
	a.store = store
	secret, err := loadSecret(getenv, logger, !o.admin)
	if err != nil {
		a.close()
		return nil, err
	}
	mailer := o.mailer
	if mailer == nil {
		if mailer, err = newMailer(o, logger, getenv); err != nil {
			a.close()
			return nil, err
		}
	}
	if a.redis, err = openRedis(o, getenv); err != nil {
		a.close()
		return nil, err
	}
	sessions, err := newSessionStore(ctx, o, a)
	if err != nil {
		a.close()
		return nil, err
	}
	limiter, err := newLimiter(ctx, o, a)
	if err != nil {
		a.close()
		return nil, err
	}
	var telemetry restauth.TelemetryConfig
	if o.metricsAddr != "" && !o.admin {
		if telemetry.MeterProvider, a.metrics, err = newMetrics(); err != nil {
			a.close()
			return nil, err
		}
	}
	svcStore, mailConfig := store, restauth.MailConfig{Mailer: mailer}
	if o.admin {
		// The outbox's mail is the server's to deliver (see adminStore); the command's own
		// (a security notice) goes out before it exits.
		svcStore, mailConfig.SendInRequest = newAdminStore(store), true
	}
	svc, err := restauth.New(restauth.Config{
		Store:               svcStore,
		Secret:              secret,
		SiteURL:             o.siteURL,
		DisableRegistration: !o.registration,
		EmailVerification:   restauth.EmailVerification(o.verification),
		Mail:                mailConfig,
		Sessions:            restauth.SessionConfig{Store: sessions},
		Limiter:             limiter,
		Logger:              logger,
		MFA:                 restauth.MFAConfig{Enabled: o.mfa, Required: o.mfaRequired},
		Telemetry:           telemetry,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	a.svc = svc
	// Closed first (closers run in reverse): the Service's outbox worker stops, delivering
	// what is due within a short bound (the rest stays in the outbox for the next start),
	// before the stores it works on are closed. Every sub-command gets this, not only
	// serve, whose shutdown has closed the Service already (a second Close is a no-op).
	a.closers = append(a.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminMailWait)
		defer cancel()
		_ = svc.Close(ctx)
	})
	return a, nil
}

// adminMailWait bounds how long a closing app waits for its Service to deliver due mail
// before leaving it in the outbox (an admin sub-command's Service delivers none: it sends
// its own mail in the command, and the outbox's is the server's).
const adminMailWait = 5 * time.Second

// loadSecret reads RESTAUTH_SECRET. Without it the server still runs, with a random secret
// that dies with the process: reset links and sessions then do not survive a restart,
// which warn says to the log. The admin commands pass false: nothing they make is keyed by
// the secret (tokens and passwords are hashed without it, and their mail is sent in the
// command rather than sealed into the outbox), so there is nothing to warn of.
func loadSecret(getenv func(string) string, logger *slog.Logger, warn bool) ([]byte, error) {
	if s := getenv("RESTAUTH_SECRET"); s != "" {
		if len(s) < 32 {
			return nil, fmt.Errorf("RESTAUTH_SECRET must be at least 32 characters")
		}
		return []byte(s), nil
	}
	if warn {
		logger.Warn("RESTAUTH_SECRET is not set: using a random secret for this run only")
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	return secret, nil
}
