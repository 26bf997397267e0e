package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gomailsmtp "github.com/wneessen/go-mail/smtp"

	"github.com/restauth/restauth"
)

// TLSPolicy says how an SMTPMailer protects the connection to its server.
type TLSPolicy int

const (
	// StartTLS upgrades the connection with STARTTLS and fails if the server does not
	// offer it. The zero value and the default; default port 587.
	StartTLS TLSPolicy = iota
	// StartTLSOpportunistic uses STARTTLS when the server offers it and continues in
	// plain text otherwise. Credentials are still never sent in plain text except to a
	// loopback host. Default port 587.
	StartTLSOpportunistic
	// ImplicitTLS speaks TLS from the first byte ("SMTPS"). Default port 465.
	ImplicitTLS
	// NoTLS never encrypts; meant for a development server on the loopback interface
	// (MailHog, Mailpit, …). Default port 25.
	NoTLS
)

// String returns the policy's name, for logs and error messages.
func (p TLSPolicy) String() string {
	switch p {
	case StartTLS:
		return "starttls"
	case StartTLSOpportunistic:
		return "starttls-opportunistic"
	case ImplicitTLS:
		return "implicit-tls"
	case NoTLS:
		return "none"
	}
	return "TLSPolicy(" + strconv.Itoa(int(p)) + ")"
}

// SMTPConfig configures an SMTPMailer. Host and From are required.
type SMTPConfig struct {
	// Host is the server's host name or IP address, without port. It is also the name the
	// server's TLS certificate must be valid for, unless TLSConfig.ServerName says otherwise.
	Host string
	// Port defaults to 465 for ImplicitTLS, 25 for NoTLS and 587 otherwise.
	Port int
	// Username and Password enable SMTP AUTH (PLAIN, or LOGIN when the server offers only
	// that). Credentials are only ever sent over TLS or to a loopback host.
	Username, Password string
	// TLS is the transport security policy. Default StartTLS.
	TLS TLSPolicy
	// Timeout bounds one whole Send: connecting, TLS, authentication and data transfer.
	// Default 10 seconds, so that a hanging server holds a delivery worker briefly (the
	// Service retries later). The context passed to Send can shorten it further.
	Timeout time.Duration
	// From is the sender, e.g. "Example <noreply@example.com>"; it is both the From header
	// and the envelope sender.
	From string
	// HELO is the name sent in EHLO/HELO. Default: the local host name.
	HELO string
	// TLSConfig customises TLS, e.g. with a private root CA. It is cloned; an empty
	// ServerName is set to Host and a zero MinVersion to TLS 1.2.
	TLSConfig *tls.Config
}

// String describes the configuration with the password redacted, so that logging a config
// by accident cannot leak it.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("SMTPConfig{Host:%s Port:%d Username:%s Password:%s TLS:%s Timeout:%s From:%s HELO:%s}",
		c.Host, c.Port, c.Username, pw, c.TLS, c.Timeout, c.From, c.HELO)
}

// GoString is String: %#v must not print the password either.
func (c SMTPConfig) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the password.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host), slog.Int("port", c.Port),
		slog.String("username", c.Username), slog.String("tls", c.TLS.String()),
		slog.Duration("timeout", c.Timeout), slog.String("from", c.From),
	)
}

// SMTPMailer delivers messages to an SMTP server (a relay or submission service), one
// connection per message. It is safe for concurrent use.
type SMTPMailer struct {
	host      string
	port      int
	username  string
	password  string
	policy    TLSPolicy
	timeout   time.Duration
	from      *netmail.Address
	helo      string
	tlsConfig *tls.Config

	// dialAddr, when set, is connected to instead of Host:Port while Host stays the name
	// used for TLS and authentication checks. Tests use it to impersonate a remote server.
	dialAddr string
}

var _ restauth.Mailer = (*SMTPMailer)(nil)

// String describes the mailer without its password.
func (m *SMTPMailer) String() string {
	return fmt.Sprintf("SMTPMailer{%s tls=%s from=%s}", m.addr(), m.policy, m.from)
}

// GoString is String, so that %#v cannot print the password.
func (m *SMTPMailer) GoString() string { return m.String() }

// NewSMTPMailer validates cfg, applies defaults and returns a mailer. It does not connect:
// a mail server that is down at start-up must not keep the application from starting.
// Every error wraps restauth.ErrConfig.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	host := strings.TrimSpace(cfg.Host)
	if host == "" {
		return nil, fmt.Errorf("%w: SMTP Host is required", restauth.ErrConfig)
	}
	if strings.ContainsAny(host, " \t\r\n/") || strings.HasPrefix(host, "unix:") {
		return nil, fmt.Errorf("%w: SMTP Host %q is not a host name", restauth.ErrConfig, host)
	}
	if cfg.From == "" {
		return nil, fmt.Errorf("%w: SMTP From is required", restauth.ErrConfig)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("%w: SMTP From %q is not an e-mail address: %v", restauth.ErrConfig, cfg.From, err)
	}
	m := &SMTPMailer{
		host:     host,
		port:     cfg.Port,
		username: cfg.Username,
		password: cfg.Password,
		policy:   cfg.TLS,
		timeout:  cfg.Timeout,
		from:     from,
		helo:     cfg.HELO,
	}
	switch m.policy {
	case StartTLS, StartTLSOpportunistic:
		defaultInt(&m.port, 587)
	case ImplicitTLS:
		defaultInt(&m.port, 465)
	case NoTLS:
		defaultInt(&m.port, 25)
		// Fail now rather than at the first password reset: go-mail refuses to send
		// credentials in plain text to anything but a loopback host.
		if m.username != "" && !isLoopbackHost(host) {
			return nil, fmt.Errorf("%w: SMTP credentials need TLS unless Host is a loopback address", restauth.ErrConfig)
		}
	default:
		return nil, fmt.Errorf("%w: unknown SMTP TLS policy %d", restauth.ErrConfig, int(m.policy))
	}
	if m.port < 1 || m.port > 65535 {
		return nil, fmt.Errorf("%w: SMTP Port %d out of range", restauth.ErrConfig, m.port)
	}
	if m.timeout < 0 {
		return nil, fmt.Errorf("%w: SMTP Timeout must not be negative", restauth.ErrConfig)
	}
	if m.timeout == 0 {
		m.timeout = 10 * time.Second
	}
	if strings.ContainsAny(m.helo, " \t\r\n") {
		return nil, fmt.Errorf("%w: SMTP HELO %q must be a single word", restauth.ErrConfig, m.helo)
	}
	if cfg.TLSConfig != nil {
		m.tlsConfig = cfg.TLSConfig.Clone()
	} else {
		m.tlsConfig = &tls.Config{}
	}
	if m.tlsConfig.ServerName == "" {
		m.tlsConfig.ServerName = host
	}
	if m.tlsConfig.MinVersion == 0 {
		m.tlsConfig.MinVersion = tls.VersionTLS12
	}
	return m, nil
}

func defaultInt(i *int, def int) {
	if *i == 0 {
		*i = def
	}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (m *SMTPMailer) addr() string { return net.JoinHostPort(m.host, strconv.Itoa(m.port)) }

// Send delivers msg over a new connection. It returns when the server has accepted the
// message, or with an error once ctx is done or the configured Timeout has passed,
// whichever comes first. Errors never include the password or the message body.
func (m *SMTPMailer) Send(ctx context.Context, msg *restauth.Message) error {
	gm, err := newGoMailMsg(m.from, msg, time.Now())
	if err != nil {
		return err
	}
	// The cause tells "our Timeout expired" apart from a deadline set by the caller; it
	// still matches errors.Is(err, context.DeadlineExceeded).
	ctx, cancel := context.WithTimeoutCause(ctx, m.timeout,
		fmt.Errorf("SMTP Timeout of %s exceeded: %w", m.timeout, context.DeadlineExceeded))
	defer cancel()
	if ctx.Err() != nil {
		return fmt.Errorf("restauth: smtp: not sent via %s: %w", m.addr(), context.Cause(ctx))
	}

	opts := []gomail.Option{
		gomail.WithPort(m.port),
		gomail.WithTimeout(m.timeout),
		gomail.WithTLSConfig(m.tlsConfig),
		gomail.WithDialContextFunc(m.dialer(ctx)),
	}
	// WithTLSPolicy, not WithTLSPortPolicy: the latter rewrites port 25 to 587 and adds a
	// plain-text fallback port, and the port has been chosen already.
	switch m.policy {
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case StartTLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		// NoTLS, and ImplicitTLS, whose handshake the dialer does before go-mail
		// sees the connection: STARTTLS on top of it would be refused.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if m.helo != "" {
		opts = append(opts, gomail.WithHELO(m.helo))
	}
	if m.username != "" {
		opts = append(opts, gomail.WithSMTPAuthCustom(&plainOrLoginAuth{
			username: m.username, password: m.password, host: m.host,
		}))
	}
	client, err := gomail.NewClient(m.host, opts...)
	if err != nil {
		return m.wrapErr(ctx, err)
	}
	if err := client.DialAndSendWithContext(ctx, gm); err != nil {
		return m.wrapErr(ctx, err)
	}
	return nil
}

// dialer returns the DialContextFunc for one Send. go-mail applies its context to dialing
// only; a server that accepts the connection and then stalls (or a caller that cancels
// mid-transfer) would otherwise block Send far beyond ctx. Closing the connection when
// sendCtx ends makes every pending read and write fail at once.
func (m *SMTPMailer) dialer(sendCtx context.Context) gomail.DialContextFunc {
	return func(dialCtx context.Context, network, address string) (net.Conn, error) {
		if m.dialAddr != "" {
			address = m.dialAddr
		}
		var d net.Dialer
		conn, err := d.DialContext(dialCtx, network, address)
		if err != nil {
			return nil, err
		}
		// The deferred cancel in Send fires this after a successful delivery too; the
		// connection is closed already by then and the second Close is harmless.
		context.AfterFunc(sendCtx, func() { _ = conn.Close() })
		if m.policy != ImplicitTLS {
			return conn, nil
		}
		// Returned as *tls.Conn, which go-mail's SMTP client recognises as encrypted and
		// therefore allows authentication on.
		tc := tls.Client(conn, m.tlsConfig)
		if err := tc.HandshakeContext(dialCtx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// wrapErr adds the server address and, when the deadline or a cancellation caused the
// failure, the context error (so errors.Is(err, context.Canceled) works), and makes sure
// the password cannot appear in the text even if a server echoed it back.
func (m *SMTPMailer) wrapErr(ctx context.Context, err error) error {
	if m.password != "" && strings.Contains(err.Error(), m.password) {
		// Dropping the chain is the price of redaction: its Error() contains the password.
		err = errors.New(strings.ReplaceAll(err.Error(), m.password, "[redacted]"))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("restauth: smtp: sending via %s: %w: %w", m.addr(), context.Cause(ctx), err)
	}
	return fmt.Errorf("restauth: smtp: sending via %s: %w", m.addr(), err)
}

// plainOrLoginAuth authenticates with PLAIN, or with LOGIN when the server offers only
// that (older Exchange servers). go-mail's auto-discovery is not used because it decides
// on "encrypted" from its own dialer, which SMTPMailer replaces, and would then refuse
// PLAIN over implicit TLS. The go-mail mechanisms it delegates to still refuse to send
// credentials over an unencrypted connection to anything but localhost.
type plainOrLoginAuth struct {
	username, password, host string
	mech                     gomailsmtp.Auth
}

func (a *plainOrLoginAuth) Start(server *gomailsmtp.ServerInfo) (string, []byte, error) {
	switch {
	case slices.Contains(server.Auth, "PLAIN"):
		a.mech = gomailsmtp.PlainAuth("", a.username, a.password, a.host, false)
	case slices.Contains(server.Auth, "LOGIN"):
		a.mech = gomailsmtp.LoginAuth(a.username, a.password, a.host, false)
	case len(server.Auth) == 0:
		return "", nil, errors.New("server does not offer SMTP AUTH (is STARTTLS required first?)")
	default:
		return "", nil, fmt.Errorf("server offers neither PLAIN nor LOGIN authentication (offers %s)",
			strings.Join(server.Auth, " "))
	}
	return a.mech.Start(server)
}

func (a *plainOrLoginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.mech.Next(fromServer, more)
}
