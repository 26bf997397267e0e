package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
)

// holdMail is a store whose outbox hands no mail to its Service's worker, so that mail the
// Service queues stays due in the database.
type holdMail struct{ restauth.Store }

func (holdMail) ClaimMail(context.Context, time.Time, time.Duration, int) ([]restauth.OutboxMail, error) {
	return nil, nil
}

// recordMailer records the recipients of the mail it is given.
type recordMailer struct {
	mu sync.Mutex
	to []string
}

func (m *recordMailer) Send(_ context.Context, msg *restauth.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.to = append(m.to, msg.To...)
	return nil
}

func (m *recordMailer) recipients() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.to...)
}

// TestAdminCommandsLeaveTheServersMailAlone: an admin command run against the server's
// database does not deliver the mail the server queued there. Its Service's outbox worker
// claimed every due mail: without the server's RESTAUTH_SECRET (which the admin commands
// do not need) it could not open them and gave them up, and without the server's mail
// flags its log mailer took them for sent; either way a password-reset link or a security
// notice queued by the server was gone.
func TestAdminCommandsLeaveTheServersMailAlone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		getenv func(string) string
	}{
		{"without the server's secret", env(map[string]string{})},
		{"with the server's secret, without its mail flags", testEnv},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := t.TempDir() + "/restauth.db"
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			open := func(setup func(*options)) *app {
				o, _, err := parseFlags([]string{"-db", db}, io.Discard)
				require.NoError(t, err)
				setup(o)
				a, err := openApp(ctx, o, logger, testEnv)
				require.NoError(t, err)
				return a
			}

			srv := open(func(o *options) { o.wrapStore = func(st restauth.Store) restauth.Store { return holdMail{st} } })
			_, err := srv.svc.CreateUser(ctx, restauth.NewUser{Username: "alice", Email: "alice@example.com",
				EmailVerified: true, Password: "an-admin-passphrase"})
			require.NoError(t, err)
			require.NoError(t, srv.svc.RequestPasswordReset(ctx, "alice@example.com"))
			srv.close()

			code, _, stderr := runCLI(t, ctx, []string{"-db", db, "token", "alice"}, "", tt.getenv)
			require.Equal(t, 0, code, stderr)

			mailer := &recordMailer{}
			srv = open(func(o *options) { o.mailer = mailer })
			srv.close() // the Service delivers what is due before it closes
			assert.Equal(t, []string{"alice@example.com"}, mailer.recipients(), "the server delivered its reset mail")
		})
	}
}
