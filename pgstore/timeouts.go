package pgstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The pool settings Open and PoolConfig apply unless the DSN names them: pgx's defaults
// check idle connections once a minute and never time out a connect, so a database that
// froze or vanished behind a dead TCP connection costs every request the whole outage.
const (
	// DefaultStatementTimeout is the server-side statement_timeout of each connection
	// unless WithStatementTimeout or the DSN says otherwise.
	DefaultStatementTimeout = 5 * time.Second
	// DefaultConnectTimeout bounds establishing a connection (the DSN's connect_timeout).
	DefaultConnectTimeout = 5 * time.Second
	// DefaultHealthCheckPeriod is how often idle connections are checked and dead ones
	// dropped (the DSN's pool_health_check_period).
	DefaultHealthCheckPeriod = 15 * time.Second
	// DefaultMaxConnIdleTime closes connections idle that long (the DSN's
	// pool_max_conn_idle_time), so that a pool does not keep connections a firewall has
	// silently dropped.
	DefaultMaxConnIdleTime = 5 * time.Minute
)

// DefaultMaxConns is the pool size Open and PoolConfig give unless the DSN names
// pool_max_conns: max(8, 4 × GOMAXPROCS). pgx's default, max(4, NumCPU), keeps a 2-core
// machine at 4 connections, and a request holds its connection for the whole round trip
// to the server, most of which this process spends waiting; with 4 × GOMAXPROCS the
// process's cores stay busy while the server answers. Each connection is a server process
// (a few MB), so instances × DefaultMaxConns must stay well below the server's
// max_connections (100 by default): set pool_max_conns for many instances, or put
// PgBouncer in front (then see the package documentation on query modes).
func DefaultMaxConns() int32 { return int32(max(8, 4*runtime.GOMAXPROCS(0))) }

// ErrCommitOutcomeUnknown is matched by the error of a write transaction whose COMMIT was
// sent but whose answer never came, when the server could not be asked afterwards whether
// it committed: the change may or may not be in the database. The error deliberately
// does not wrap the context's error, so that restauth answers it as a server error (500,
// logged), not as a timeout that a client would take for "nothing happened".
var ErrCommitOutcomeUnknown = errors.New("pgstore: the outcome of a commit is unknown")

// WithStatementTimeout sets the server-side statement_timeout of the connections Open and
// PoolConfig make (default DefaultStatementTimeout; zero or less: none, the server's
// setting). PostgreSQL then cancels any statement that runs longer, so that a lock wait or
// a runaway query ends on the server too, not only in the client that gave up on it. New
// cannot change a pool it is given: set statement_timeout in that pool's
// ConnConfig.RuntimeParams (PoolConfig does).
func WithStatementTimeout(d time.Duration) Option {
	return func(o *options) { o.statementTimeout, o.statementTimeoutSet = d, true }
}

// PoolConfig parses dsn as pgxpool.ParseConfig does and applies the settings Open uses:
// the Default* connect timeout, health-check period, idle time and pool size, and the statement
// timeout (WithStatementTimeout), each unless the DSN names it. Use it to build a pool of
// your own for New with the same protection against a frozen or vanished database.
func PoolConfig(dsn string, opts ...Option) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	o := newOptions(opts)
	named := func(param string) bool { return strings.Contains(dsn, param) }
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if !named("pool_health_check_period") {
		cfg.HealthCheckPeriod = DefaultHealthCheckPeriod
	}
	if !named("pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns()
	}
	if !named("pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = DefaultMaxConnIdleTime
	}
	if _, inDSN := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !inDSN || o.statementTimeoutSet {
		if o.statementTimeout > 0 {
			cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.statementTimeout.Milliseconds(), 10)
		} else {
			delete(cfg.ConnConfig.RuntimeParams, "statement_timeout")
		}
	}
	return cfg, nil
}

// settleTimeout bounds the COMMIT of a transaction, and finding out its outcome, once the
// request's own deadline no longer applies (see runTx).
func (s *Store) settleTimeout() time.Duration {
	if d := s.opts.statementTimeout; d > 0 {
		return d
	}
	return DefaultStatementTimeout
}

// runTx runs fn in a READ COMMITTED transaction on the pool and commits it. Everything up
// to the COMMIT runs under ctx, so a request's deadline (restauth.Config.StoreTimeout)
// rolls back a transaction that is too slow and nothing is committed. The COMMIT itself
// does not: once it is sent, runTx waits for its answer (at most settleTimeout) rather
// than tell the client a failure that may turn out committed. Should the answer be lost
// (the connection broke), the server is asked on another connection whether the
// transaction committed (txid_status): committed is success, aborted is the commit's
// error, and no answer is ErrCommitOutcomeUnknown.
func (s *Store) runTx(ctx context.Context, fn func(pgx.Tx) error) (err error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	committing := false
	defer func() {
		if !committing {
			// Also when ctx is done or fn panicked: the connection goes back to the pool clean.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.settleTimeout())
			_ = tx.Rollback(rctx)
			cancel()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	// NULL when the transaction wrote nothing: then its commit's outcome does not matter.
	var xid *int64
	if err := tx.QueryRow(ctx, `SELECT txid_current_if_assigned()`).Scan(&xid); err != nil {
		return err
	}
	committing = true
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.settleTimeout())
	defer cancel()
	cerr := tx.Commit(cctx)
	var pe *pgconn.PgError
	if cerr == nil || xid == nil || errors.As(cerr, &pe) || errors.Is(cerr, pgx.ErrTxCommitRollback) || pgconn.SafeToRetry(cerr) {
		return cerr // committed, or refused by the server, or never sent
	}
	return s.commitOutcome(context.WithoutCancel(ctx), *xid, cerr)
}

// commitOutcome asks the server, on another connection, what became of transaction xid
// whose COMMIT failed with cerr after it was sent.
func (s *Store) commitOutcome(ctx context.Context, xid int64, cerr error) error {
	ctx, cancel := context.WithTimeout(ctx, s.settleTimeout())
	defer cancel()
	for {
		var status *string
		err := s.pool.QueryRow(ctx, `SELECT txid_status($1)`, xid).Scan(&status)
		switch {
		case err != nil || status == nil:
			return fmt.Errorf("%w: %v (and asking for it: %v)", ErrCommitOutcomeUnknown, cerr, err)
		case *status == "committed":
			return nil
		case *status == "aborted":
			return cerr
		}
		// "in progress": the server has not finished the commit yet.
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %v (still in progress)", ErrCommitOutcomeUnknown, cerr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// autocommit runs writes of one statement on the pool, each its own transaction. When the
// context ends after such a statement was sent, the server may still run and commit it
// (a frozen server does, once it thaws), so the error is ErrCommitOutcomeUnknown, not the
// context's: restauth must not answer "try again, nothing happened" for it.
type autocommit struct{ pool *pgxpool.Pool }

func (a autocommit) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	conn, err := a.pool.Acquire(ctx) // a failure here sent nothing
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer conn.Release()
	tag, err := conn.Exec(ctx, sql, args...)
	return tag, outcomeErr(ctx, err)
}

func (a autocommit) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return a.pool.Query(ctx, sql, args...) // not used for writes
}

func (a autocommit) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return autocommitRow{ctx: ctx, pool: a.pool, sql: sql, args: args}
}

// autocommitRow runs its statement when scanned, on a connection of its own.
type autocommitRow struct {
	ctx  context.Context
	pool *pgxpool.Pool
	sql  string
	args []any
}

func (r autocommitRow) Scan(dest ...any) error {
	conn, err := r.pool.Acquire(r.ctx) // a failure here sent nothing
	if err != nil {
		return err
	}
	defer conn.Release()
	return outcomeErr(r.ctx, conn.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...))
}

// outcomeErr turns the error of a write that ctx's end interrupted after it was sent
// into ErrCommitOutcomeUnknown; other errors stay as they are.
func outcomeErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || !errors.Is(err, ctx.Err()) || pgconn.SafeToRetry(err) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return err // the server answered: the statement failed and was undone
	}
	return fmt.Errorf("%w: %v", ErrCommitOutcomeUnknown, err)
}
