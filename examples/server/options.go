package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/redislimit"
)

// options are the server's flags.
type options struct {
	addr         string
	store        string
	dbPath       string
	dsn          string
	pgSchema     string
	siteURL      string
	registration bool
	verification string
	mailDir      string
	smtpAddr     string
	smtpUser     string
	smtpFrom     string
	smtpTLS      string
	sessions     string
	redisAddr    string
	limiter      string
	redisPrefix  string
	mfa          bool
	mfaRequired  bool
	grace        time.Duration
	metricsAddr  string

	// Set by tests only, never by a flag: mailer replaces the one the flags pick, and
	// wrapStore wraps the opened store (to hold a request inside it, say).
	mailer    restauth.Mailer
	wrapStore func(restauth.Store) restauth.Store

	// admin is set by run, never by a flag, for the commands that run once and exit: they
	// need no secret that outlives them, so a missing RESTAUTH_SECRET is not worth a warning.
	admin bool
}

// parseFlags parses the flags before the command and returns the rest. It returns
// flag.ErrHelp, having printed nothing, when -help or -h was asked for (run prints the
// usage to standard output and exits 0); for any other mistake it prints the mistake and
// the usage to stderr and returns an error matching errUsage.
func parseFlags(args []string, stderr io.Writer) (*options, []string, error) {
	o := &options{}
	fs := newFlagSet(o)
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, nil, err
		}
		_, _ = buf.WriteTo(stderr)
		return nil, nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	if o.mfaRequired {
		o.mfa = true
	}
	if o.siteURL == "" {
		o.siteURL = "http://" + o.addr
	}
	return o, fs.Args(), nil
}

// newFlagSet defines the server's flags on o; printUsage uses it for their defaults.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&o.store, "store", defaultStore, "account store: "+strings.Join(storeNames(), ", "))
	fs.StringVar(&o.dbPath, "db", "restauth.db", "SQLite database file (-store sqlite)")
	fs.StringVar(&o.dsn, "dsn", "", "PostgreSQL connection string (-store postgres)")
	fs.StringVar(&o.pgSchema, "pg-schema", "restauth", "PostgreSQL schema holding restauth's tables (-store postgres)")
	fs.StringVar(&o.siteURL, "site-url", "", "public URL of the site, used in e-mailed links (default http://<addr>)")
	fs.BoolVar(&o.registration, "registration", true, "allow POST /api/auth/registration/")
	fs.StringVar(&o.verification, "verification", "optional", "e-mail verification at registration: none, optional or mandatory")
	fs.StringVar(&o.mailDir, "mail-dir", "", "write each outgoing message as an .eml file in this directory")
	fs.StringVar(&o.smtpAddr, "smtp", "", "send mail through this SMTP server (host:port); password from $RESTAUTH_SMTP_PASSWORD")
	fs.StringVar(&o.smtpUser, "smtp-user", "", "SMTP user name")
	fs.StringVar(&o.smtpFrom, "smtp-from", "restauth@localhost", "From address of outgoing mail")
	fs.StringVar(&o.smtpTLS, "smtp-tls", "starttls", "SMTP TLS policy: starttls, opportunistic, tls or none")
	fs.StringVar(&o.sessions, "sessions", "", "where sessions live: memory, store (the account database) or redis (default: store when it is a database)")
	fs.StringVar(&o.redisAddr, "redis", "", "Redis server (-sessions redis, -limiter redis): host:port, redis://[user:password@]host:port[/db],\n"+
		"or rediss://… for TLS checked against the system's roots (default $"+redisURLEnv+", else "+defaultRedisAddr+");\n"+
		"give a password in $"+redisURLEnv+", not here, where ps shows it; -redis wins over $"+redisURLEnv)
	fs.StringVar(&o.limiter, "limiter", "", "where rate-limit counts live: memory (this instance only) or redis, shared by every instance\n"+
		"on the -redis server, so that limits hold across them; a Redis outage then lets requests through and is logged, costing\n"+
		"at most "+redislimit.DefaultTimeout.String()+" while redislimit's circuit breaker is closed and nothing while it is open\n"+
		"(default: redis with -store postgres or -sessions redis, which mean several instances; memory otherwise)")
	fs.StringVar(&o.redisPrefix, "redis-prefix", redislimit.DefaultPrefix, "prefix of the rate-limit keys in Redis (-limiter redis); apps sharing a Redis need their own")
	fs.BoolVar(&o.mfa, "mfa", false, "enable multi-factor authentication: TOTP and recovery codes under /api/auth/mfa/, and mfa_code at login for users who activated it")
	fs.BoolVar(&o.mfaRequired, "mfa-required", false, "require a second factor from every user (implies -mfa); users enrol on /api/auth/mfa/ before they can log in")
	fs.DurationVar(&o.grace, "shutdown-grace", defaultShutdownGrace, "on SIGINT or SIGTERM, time to finish the requests in flight and deliver the mail they queued\n"+
		"before the stores close; the server exits 0 when both are done in time, 1 with an error line otherwise")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve restauth's OpenTelemetry metrics in Prometheus's format at http://<addr>/metrics\n"+
		"(e.g. 127.0.0.1:9464; a listener of its own, off the API's address); default: no metrics")
	fs.Usage = func() { printUsage(fs.Output()) }
	return fs
}
