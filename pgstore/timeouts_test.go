package pgstore_test

import (
	"context"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/pgstore"
)

// TestStatementTimeoutInEffect checks on a pooled connection that the server-side
// statement_timeout Open sets is the one the options and the DSN ask for.
func TestStatementTimeoutInEffect(t *testing.T) {
	t.Parallel()
	dsn := testDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	tests := []struct {
		name string
		dsn  string
		opts []pgstore.Option
		want string
	}{
		{name: "default", dsn: dsn, want: "5s"},
		{name: "option", dsn: dsn, opts: []pgstore.Option{pgstore.WithStatementTimeout(1500 * time.Millisecond)}, want: "1500ms"},
		{name: "DSN", dsn: dsn + sep + "statement_timeout=2000", want: "2s"},
		{name: "option over DSN", dsn: dsn + sep + "statement_timeout=2000", opts: []pgstore.Option{pgstore.WithStatementTimeout(3 * time.Second)}, want: "3s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := pgstore.Open(ctx, tc.dsn, append(tc.opts, pgstore.WithSchema(newSchema(t)))...)
			require.NoError(t, err)
			t.Cleanup(s.Close)
			var got string
			require.NoError(t, s.Pool().QueryRow(ctx, "SHOW statement_timeout").Scan(&got))
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestPoolConfigDefaults: the health checks and connect timeout pgx leaves off or long.
func TestPoolConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := pgstore.PoolConfig("postgres://u@127.0.0.1:5432/db")
	require.NoError(t, err)
	assert.Equal(t, pgstore.DefaultConnectTimeout, cfg.ConnConfig.ConnectTimeout)
	assert.Equal(t, pgstore.DefaultHealthCheckPeriod, cfg.HealthCheckPeriod)
	assert.Equal(t, pgstore.DefaultMaxConnIdleTime, cfg.MaxConnIdleTime)
	assert.Equal(t, "5000", cfg.ConnConfig.RuntimeParams["statement_timeout"])
	assert.Equal(t, pgstore.DefaultMaxConns(), cfg.MaxConns)
	assert.GreaterOrEqual(t, cfg.MaxConns, int32(8))

	cfg, err = pgstore.PoolConfig("postgres://u@127.0.0.1:5432/db?connect_timeout=2&pool_health_check_period=1m&pool_max_conn_idle_time=1h&pool_max_conns=3",
		pgstore.WithStatementTimeout(-1))
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, cfg.ConnConfig.ConnectTimeout)
	assert.Equal(t, time.Minute, cfg.HealthCheckPeriod)
	assert.Equal(t, time.Hour, cfg.MaxConnIdleTime)
	assert.Equal(t, int32(3), cfg.MaxConns)
	assert.NotContains(t, cfg.ConnConfig.RuntimeParams, "statement_timeout")
}

// TestDeadlineOutcomes holds a lock on a user's row so that the store's statements wait
// for it until their deadline: a transaction cut short before its COMMIT answers the
// context's error (it is rolled back, nothing committed), while a single autocommit write
// already sent may still commit once the lock is gone, and says so.
func TestDeadlineOutcomes(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	u := &restauth.User{Username: "frozen", IsActive: true, DateJoined: time.Now()}
	require.NoError(t, s.CreateUser(ctx, u, &restauth.EmailAddress{Email: "frozen@example.com", Primary: true}))
	addrs, err := s.EmailAddresses(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, addrs, 1)

	// The same schema through a pool whose server-side statement_timeout is shorter than
	// the client's deadline: PostgreSQL cancels the statement, which is then undone.
	cfg, err := pgstore.PoolConfig(testDSN(t), pgstore.WithStatementTimeout(50*time.Millisecond))
	require.NoError(t, err)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	short, err := pgstore.New(ctx, pool, pgstore.WithSchema(s.Schema()))
	require.NoError(t, err)
	t.Cleanup(short.Close)

	tests := []struct {
		name    string
		call    func(ctx context.Context) error
		unknown bool
		server  bool // the server's statement_timeout ends the wait
	}{
		{name: "statement_timeout", server: true, call: func(ctx context.Context) error {
			name := "Thawed"
			_, err := short.UpdateUser(context.WithoutCancel(ctx), u.ID, restauth.UserUpdate{FirstName: &name})
			return err
		}},
		{name: "transaction", call: func(ctx context.Context) error {
			_, err := s.SetPrimaryEmailAddress(ctx, addrs[0].ID)
			return err
		}},
		{name: "autocommit write", unknown: true, call: func(ctx context.Context) error {
			name := "Frozen"
			_, err := s.UpdateUser(ctx, u.ID, restauth.UserUpdate{FirstName: &name})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Once without the lock first, so that the timed call below finds a connection
			// and its statement prepared: on a loaded machine, dialling and preparing alone
			// could outlast the deadline, and a call that never reached the server rightly
			// reads as "nothing happened" rather than the outcome this case is about.
			require.NoError(t, tc.call(context.WithoutCancel(ctx)))
			holder, err := s.Pool().Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = holder.Rollback(context.WithoutCancel(ctx)) }()
			_, err = holder.Exec(ctx, "SELECT 1 FROM "+pgx.Identifier{s.Schema(), "users"}.Sanitize()+" WHERE id = $1 FOR UPDATE", u.ID)
			require.NoError(t, err)

			// Long enough to reach the server however loaded the machine is; the held row
			// lock keeps the statement waiting until the deadline (or statement_timeout).
			cctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			err = tc.call(cctx)
			require.Error(t, err)
			switch {
			case tc.server:
				assert.ErrorIs(t, err, restauth.ErrStoreTimeout)
				assert.NotErrorIs(t, err, pgstore.ErrCommitOutcomeUnknown)
			case tc.unknown:
				assert.ErrorIs(t, err, pgstore.ErrCommitOutcomeUnknown)
				assert.NotErrorIs(t, err, context.DeadlineExceeded, "must not read as \"nothing happened\"")
			default:
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.NotErrorIs(t, err, pgstore.ErrCommitOutcomeUnknown)
			}
		})
	}
}
