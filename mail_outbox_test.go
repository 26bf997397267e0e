package restauth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/memstore"
)

// blockingMailer is a black-holed mail server: every Send waits until released (or its
// context ends), counting the sends that entered and those that got through.
type blockingMailer struct {
	release   chan struct{}
	entered   atomic.Int64
	delivered atomic.Int64
	firstIn   chan struct{}
	once      sync.Once
}

func newBlockingMailer() *blockingMailer {
	return &blockingMailer{release: make(chan struct{}), firstIn: make(chan struct{})}
}

func (m *blockingMailer) Send(ctx context.Context, _ *restauth.Message) error {
	m.entered.Add(1)
	m.once.Do(func() { close(m.firstIn) })
	select {
	case <-m.release:
		m.delivered.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// F2: with the mail server hanging, password-reset and registration requests for known
// addresses all return (while not one mail got through), and every mail they queued is
// delivered once the server answers again: none was dropped for lack of a slot.
func TestHangingMailerDelaysNoRequestAndLosesNoMail(t *testing.T) {
	t.Parallel()
	mailer := newBlockingMailer()
	e := newEnv(t, func(c *restauth.Config) {
		c.Mail.SendInRequest = false
		c.Mail.Mailer = mailer
	})
	const n = 80 // more than the old bound of 64 jobs in flight
	// On a version where requests wait for a free delivery slot, they give up at this
	// deadline (and their mail is lost); here none waits at all.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range n {
		res, err := e.svc.Register(ctx, restauth.RegisterRequest{Username: fmt.Sprintf("hang%d", i), Email: fmt.Sprintf("hang%d@example.com", i),
			Password1: goodPassword, Password2: goodPassword})
		require.NoError(t, err)
		assert.True(t, res.VerificationSent, "registration %d queued its confirmation", i)
		require.NoError(t, e.svc.RequestPasswordReset(ctx, fmt.Sprintf("hang%d@example.com", i)))
	}
	require.NoError(t, ctx.Err(), "no request waited for the mail server")
	assert.Zero(t, mailer.delivered.Load(), "every request returned while the mail server held its mail")

	close(mailer.release)
	require.NoError(t, e.svc.Close(context.Background()))
	assert.Equal(t, int64(2*n), mailer.delivered.Load(), "every confirmation and reset link is delivered")
}

// F3: mail queued before Close and not delivered when Close's context ends stays in the
// outbox, and the next Service on the same store delivers it.
func TestMailLeftAtCloseIsDeliveredByTheNextService(t *testing.T) {
	t.Parallel()
	store := memstore.New()
	mailer := newBlockingMailer()
	first := newEnv(t, func(c *restauth.Config) {
		c.Store = store
		c.Mail.SendInRequest = false
		c.Mail.Mailer = mailer
	})
	const n = 6
	for i := range n {
		first.register(fmt.Sprintf("left%d", i), goodPassword, fmt.Sprintf("left%d@example.com", i))
		require.NoError(t, first.svc.RequestPasswordReset(context.Background(), fmt.Sprintf("left%d@example.com", i)))
	}
	<-mailer.firstIn // the worker is sending, and the server hangs
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, first.svc.Close(ctx), context.Canceled, "Close could not deliver in time")
	assert.Zero(t, mailer.delivered.Load())

	next := newEnv(t, func(c *restauth.Config) { c.Store = store; c.Mail.SendInRequest = false })
	require.NoError(t, next.svc.Close(context.Background()), "Close delivers what is due")
	var resets, confirmations int
	for _, m := range next.mailer.Messages() {
		switch {
		case strings.Contains(m.Text, "uid="):
			resets++
		case strings.Contains(m.Text, "account-confirm-email"):
			confirmations++
		}
	}
	assert.Equal(t, n, resets, "every reset link queued before Close is delivered after it")
	assert.Equal(t, n, confirmations, "every confirmation queued before Close is delivered after it")
}

// Mail queued before Close is delivered by Close when the server answers.
func TestCloseDrainsTheOutbox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *restauth.Config) { c.Mail.SendInRequest = false })
	for i := range 10 {
		e.register(fmt.Sprintf("drain%d", i), goodPassword, fmt.Sprintf("drain%d@example.com", i))
	}
	require.NoError(t, e.svc.Close(context.Background()))
	assert.Len(t, e.mailer.Messages(), 10)
}

// A mail that keeps failing is retried with a growing delay and, after MaxAttempts, given
// up with a log line (no link in it) and an AuditMailGivenUp event; it is then gone.
func TestFailingMailIsRetriedThenGivenUpLoudly(t *testing.T) {
	t.Parallel()
	var sends atomic.Int64
	var logs bytes.Buffer
	var logMu sync.Mutex
	rec := &auditRecorder{}
	e := newEnv(t, func(c *restauth.Config) {
		c.Mail.SendInRequest = false
		c.Mail.Mailer = restauth.MailerFunc(func(context.Context, *restauth.Message) error {
			sends.Add(1)
			return errors.New("421 try again later")
		})
		c.Mail.Outbox = restauth.OutboxConfig{MaxAttempts: 3, RetryDelay: time.Minute}
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
		c.Audit = rec.record
	})
	restauth.ManualMailDelivery(e.svc)
	u, _ := e.register("failing", goodPassword, "failing@example.com")
	require.NoError(t, e.svc.RequestPasswordReset(context.Background(), "failing@example.com"))
	rec.take()

	restauth.DeliverDueMail(e.svc)
	require.Equal(t, int64(2), sends.Load(), "the confirmation and the reset are tried")
	restauth.DeliverDueMail(e.svc)
	require.Equal(t, int64(2), sends.Load(), "not again before the retry delay")
	e.clock.Advance(time.Minute)
	restauth.DeliverDueMail(e.svc)
	require.Equal(t, int64(4), sends.Load(), "second attempts after a minute")
	e.clock.Advance(time.Minute)
	restauth.DeliverDueMail(e.svc)
	require.Equal(t, int64(4), sends.Load(), "the delay doubled")
	for _, ev := range rec.take() {
		assert.NotEqual(t, restauth.AuditMailGivenUp, ev.Kind, "nothing given up before the last attempt")
	}
	e.clock.Advance(time.Minute)
	restauth.DeliverDueMail(e.svc)
	require.Equal(t, int64(6), sends.Load(), "third attempts")

	// The last attempt failed: both mails are given up, and not tried again.
	e.clock.Advance(24 * time.Hour)
	restauth.DeliverDueMail(e.svc)
	assert.Equal(t, int64(6), sends.Load(), "a given-up mail is not tried again")
	var given []restauth.AuditEvent
	for _, ev := range rec.all {
		if ev.Kind == restauth.AuditMailGivenUp {
			given = append(given, ev)
		}
	}
	require.Len(t, given, 2, "each given-up mail is audited")
	var users []int64
	for _, ev := range given {
		users = append(users, ev.UserID)
		assert.Contains(t, ev.Detail, "attempts=3")
		assert.NotContains(t, ev.Detail, "failing@example.com")
	}
	assert.ElementsMatch(t, []int64{u.ID, 0}, users, "the confirmation names its user; a reset request names only an address")
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	assert.Equal(t, 2, strings.Count(out, "mail given up"), "each given-up mail is logged")
	assert.NotContains(t, out, "uid=")
	assert.NotContains(t, out, "account-confirm-email")
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// recordingOutbox keeps a copy of every outbox row claimed, that is every row as stored
// (those written in a transaction too).
type recordingOutbox struct {
	*memstore.Store
	mu   sync.Mutex
	rows []restauth.OutboxMail
}

func (r *recordingOutbox) ClaimMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]restauth.OutboxMail, error) {
	ms, err := r.Store.ClaimMail(ctx, now, lease, limit)
	r.mu.Lock()
	r.rows = append(r.rows, ms...)
	r.mu.Unlock()
	return ms, err
}

// The outbox holds no live secret: no row holds the token, key or link of any mail sent
// for it, and a notice's data (the username, say) is sealed.
func TestOutboxRowsHoldNoSecret(t *testing.T) {
	t.Parallel()
	store := &recordingOutbox{Store: memstore.New()}
	e := newEnv(t, func(c *restauth.Config) {
		c.Store = store
		c.Mail.SendInRequest = false
		c.MagicLink.Enabled = true
	})
	e.register("sealed-user", goodPassword, "sealed@example.com")
	require.NoError(t, e.svc.Close(context.Background()))
	key := confirmationKey(t, e.mailer.Messages()[0])
	_, err := e.svc.VerifyEmail(context.Background(), key)
	require.NoError(t, err)
	require.NoError(t, e.svc.RequestPasswordReset(context.Background(), "sealed@example.com"))
	require.NoError(t, e.svc.RequestMagicLink(context.Background(), "sealed@example.com"))
	u, err := store.UserByUsername(context.Background(), "sealed-user")
	require.NoError(t, err)
	_, err = e.svc.ChangePassword(context.Background(), u, restauth.PasswordChange{Old: goodPassword, New1: newPassword, New2: newPassword})
	require.NoError(t, err)
	require.NoError(t, e.svc.Close(context.Background()))

	msgs := e.mailer.Messages()
	require.Len(t, msgs, 4, "confirmation, reset, magic link, password-changed notice")
	var secrets []string
	for _, m := range msgs {
		link := linkIn(m.Text)
		if link == "" {
			continue // the notice
		}
		u, err := url.Parse(link)
		require.NoError(t, err)
		secrets = append(secrets, link)
		for _, vs := range u.Query() {
			for _, v := range vs {
				if len(v) >= 8 { // a token, not the uid
					secrets = append(secrets, v)
				}
			}
		}
	}
	require.Len(t, secrets, 3+2, "three links, and the tokens of the two with a query")
	secrets = append(secrets, key)
	store.mu.Lock()
	defer store.mu.Unlock()
	require.Len(t, store.rows, 4)
	for _, row := range store.rows {
		all := strings.Join([]string{row.Key, row.Kind, row.Email, string(row.Payload)}, "\x00")
		for _, s := range secrets {
			assert.NotContains(t, all, s, "outbox row %s", row.Kind)
		}
		assert.NotContains(t, all, "sealed-user", "the username of a notice is sealed")
	}
}

// linkIn returns the first link in a mail's text that carries a token or key; "" if none.
func linkIn(text string) string {
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "http://") && (strings.Contains(f, "=") || strings.Contains(f, "account-confirm-email/")) {
			return f
		}
	}
	return ""
}

// countingOutbox counts the outbox writes.
type countingOutbox struct {
	*memstore.Store
	writes atomic.Int64
}

func (c *countingOutbox) EnqueueMail(ctx context.Context, m *restauth.OutboxMail) error {
	c.writes.Add(1)
	return c.Store.EnqueueMail(ctx, m)
}

// Requests for a known and an unknown address write the outbox alike: once each.
func TestKnownAndUnknownAddressesWriteTheOutboxOnce(t *testing.T) {
	t.Parallel()
	store := &countingOutbox{}
	e := newEnv(t, func(c *restauth.Config) {
		store.Store = c.Store.(*memstore.Store) // e.store, which the helpers use
		c.Store = store
		c.Mail.SendInRequest = false
		c.MagicLink.Enabled = true
	})
	e.verifiedUser(t, "known")
	ctx := context.Background()
	for name, op := range map[string]func(string) error{
		"reset":  func(a string) error { return e.svc.RequestPasswordReset(ctx, a) },
		"resend": func(a string) error { return e.svc.ResendVerification(ctx, a) },
		"magic":  func(a string) error { return e.svc.RequestMagicLink(ctx, a) },
	} {
		for _, addr := range []string{"known@example.com", "nobody@example.com"} {
			before := store.writes.Load()
			require.NoError(t, op(addr))
			assert.Equal(t, int64(1), store.writes.Load()-before, "%s for %s: one outbox write", name, addr)
		}
	}
	require.NoError(t, e.svc.Close(ctx))
}

// Mailed codes go through the outbox too (a SIGTERM loses none), sealed: neither the row
// nor its payload holds the code or the username, and Close delivers them.
func TestMailedCodesAreQueuedSealed(t *testing.T) {
	t.Parallel()
	store := &recordingOutbox{Store: memstore.New()}
	e := newEnv(t, withCodes, func(c *restauth.Config) {
		c.Store = store
		c.Mail.SendInRequest = false
	})
	e.register("coded-user", goodPassword, "coded@example.com")
	require.NoError(t, e.svc.Close(context.Background()))
	before := len(e.mailer.Messages())
	_, err := e.svc.RequestLoginCode(context.Background(), "coded@example.com")
	require.NoError(t, err)
	_, err = e.svc.RequestPasswordResetCode(context.Background(), "coded@example.com")
	require.NoError(t, err)
	require.NoError(t, e.svc.Close(context.Background()))
	msgs := e.mailer.Messages()[before:]
	require.Len(t, msgs, 2, "a login code and a reset code")
	var codes []string
	for _, m := range msgs {
		code := mailedCodeRE.FindStringSubmatch(m.Text)
		require.NotNil(t, code, "no code in the mail")
		codes = append(codes, code[1])
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	var coded int
	for _, row := range store.rows {
		if row.Kind != "mailed_code" {
			continue
		}
		coded++
		all := strings.Join([]string{row.Key, row.Kind, row.Email, string(row.Payload)}, "\x00")
		for _, code := range codes {
			assert.NotContains(t, all, `"`+code+`"`, "the code is sealed")
		}
		assert.NotContains(t, all, "coded-user")
	}
	assert.Equal(t, 2, coded, "both codes went through the outbox")
}

// noClaims queues mail but never claims any: an instance whose worker has not got to its
// mail yet.
type noClaims struct{ *memstore.Store }

func (noClaims) ClaimMail(context.Context, time.Time, time.Duration, int) ([]restauth.OutboxMail, error) {
	return nil, nil
}

// While Config.Secret is rotated, instances under the old and the new Secret share one
// outbox. One that claims a sealed mail (here a login code) it cannot open leaves it,
// retried later, for an instance that can; it does not give it up.
func TestSealedMailUnderAnotherSecretIsLeftForItsInstance(t *testing.T) {
	t.Parallel()
	shared := memstore.New()
	queuer := newEnv(t, withCodes, func(c *restauth.Config) { c.Store = noClaims{shared}; c.Mail.SendInRequest = false })
	queuer.register("rotating", goodPassword, "rotating@example.com")
	_, err := queuer.svc.RequestLoginCode(context.Background(), "rotating@example.com")
	require.NoError(t, err)
	require.NoError(t, queuer.svc.Close(context.Background()))

	var mu sync.Mutex
	var givenUp int
	rotated := newEnv(t, withCodes, func(c *restauth.Config) {
		c.Store = shared
		c.Secret = []byte(strings.Repeat("the next secret ", 4))
		c.Mail.SendInRequest = false
		c.Audit = func(_ context.Context, e restauth.AuditEvent) {
			mu.Lock()
			defer mu.Unlock()
			if e.Kind == restauth.AuditMailGivenUp {
				givenUp++
			}
		}
	})
	require.NoError(t, rotated.svc.Close(context.Background()))
	for _, m := range rotated.mailer.Messages() {
		assert.Nil(t, mailedCodeRE.FindStringSubmatch(m.Text), "the sealed code does not open under another Secret")
	}
	mu.Lock()
	assert.Zero(t, givenUp, "a mail another instance can open is not given up")
	mu.Unlock()

	owner := newEnv(t, withCodes, func(c *restauth.Config) { c.Store = shared; c.Mail.SendInRequest = false })
	owner.clock.Advance(time.Hour) // past the retry delay the other instance set
	require.NoError(t, owner.svc.Close(context.Background()))
	var codes int
	for _, m := range owner.mailer.Messages() {
		if mailedCodeRE.FindStringSubmatch(m.Text) != nil {
			codes++
		}
	}
	assert.Equal(t, 1, codes, "the instance under the Secret that sealed it delivers the code")
}
