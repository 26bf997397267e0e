package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/migrations"
	"github.com/restauth/restauth/internal/periodic"
)

// DefaultSchema is the schema the tables live in unless WithSchema names another.
const DefaultSchema = "restauth"

// DefaultSessionCleanupInterval is how often expired sessions are deleted unless
// WithSessionCleanupInterval says otherwise.
const DefaultSessionCleanupInterval = 5 * time.Minute

// Option configures New and Open.
type Option func(*options)

type options struct {
	schema          string
	cleanupInterval time.Duration
	// statementTimeout is set by WithStatementTimeout (statementTimeoutSet), else the default.
	statementTimeout    time.Duration
	statementTimeoutSet bool
}

func newOptions(opts []Option) options {
	o := options{schema: DefaultSchema, cleanupInterval: DefaultSessionCleanupInterval, statementTimeout: DefaultStatementTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithSchema keeps the tables in the named schema (created if missing) instead of
// DefaultSchema, so that several stores, or test runs, can share one database without
// seeing each other's data. An empty name means no schema at all: names are left
// unqualified and resolve through the connection's search_path (the tables are created in
// its first schema).
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// WithSessionCleanupInterval sets how often the store started by SessionStore deletes
// expired sessions; zero or less disables the cleanup (Find ignores expired sessions
// anyway, so they only take space).
func WithSessionCleanupInterval(d time.Duration) Option {
	return func(o *options) { o.cleanupInterval = d }
}

// Store is a restauth.Store on PostgreSQL. Create it with New or Open; it is safe for
// concurrent use, and any number of Store values, in one process or many, may share a
// schema.
type Store struct {
	pool     *pgxpool.Pool
	ownsPool bool
	opts     options
	q        queries
	// fastTokens is set when the pool prepares statements (pgx's default mode) and
	// traces nothing, so that TokenByHash may use a prepared statement directly.
	fastTokens bool

	cleanup periodic.Task // deletes expired sessions once SessionStore starts it; Close stops it

	// tx is set in a transaction's view (see InTx): every statement goes through it. root
	// is then the Store that began the transaction.
	tx   pgx.Tx
	root *Store
}

// Compile-time checks of the interfaces Store implements.
var (
	_ restauth.Store          = (*Store)(nil)
	_ restauth.TokenUserStore = (*Store)(nil)
	_ restauth.Transactor     = (*Store)(nil)
)

// New returns a Store on pool, after bringing the schema up to date (see the package
// documentation). The pool stays the caller's: Close does not close it.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	o := newOptions(opts)
	if err := migrate(ctx, pool, o.schema); err != nil {
		return nil, err
	}
	prefix := ""
	if o.schema != "" {
		prefix = pgx.Identifier{o.schema}.Sanitize() + "."
	}
	cc := pool.Config().ConnConfig
	fast := cc.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement && cc.StatementCacheCapacity > 0 && cc.Tracer == nil
	return &Store{pool: pool, opts: o, q: newQueries(prefix), fastTokens: fast}, nil
}

// Open connects to the database at dsn (a URL or key=value string, as pgxpool.ParseConfig
// takes it) and returns a Store that owns the pool: Close closes it. The pool has the
// timeouts and health checks PoolConfig sets.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := PoolConfig(dsn, opts...)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s, err := New(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownsPool = true
	return s, nil
}

// Pool returns the connection pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema the tables live in ("" when names are unqualified).
func (s *Store) Schema() string { return s.opts.schema }

// Close stops the session cleanup and, if the store was made by Open, closes the pool,
// waiting for connections in use to be released. Closing twice is harmless.
func (s *Store) Close() {
	if s.root != nil {
		return // a transaction's view: the store is its root's to close
	}
	if !s.cleanup.Stop() {
		return // closed already
	}
	if s.ownsPool {
		s.pool.Close()
	}
}

// Migrations

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockClass is the first key of the advisory lock taken while migrating (the
// second is a hash of the schema name): "rAUT".
const migrationLockClass = 0x72415554

// migrate applies the migrations the schema lacks, in one transaction under a
// transaction-scoped advisory lock, so that concurrent callers wait for each other and
// then find the work done.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ms, err := migrations.Load(migrationFS, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	err = pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx,
			"SELECT pg_advisory_xact_lock($1, hashtext(coalesce(nullif($2, ''), current_schema(), '')))",
			int32(migrationLockClass), schema); err != nil {
			return err
		}
		if schema != "" {
			// Creating an existing schema needs the CREATE privilege on the database even
			// with IF NOT EXISTS, so look first: a role that may not create schemas can use
			// one made for it.
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
				return err
			}
			ident := pgx.Identifier{schema}.Sanitize()
			if !exists {
				if _, err := tx.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
					return err
				}
			}
			// The migration files use unqualified names; for this transaction, they mean
			// the store's schema.
			if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    bigint PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
		if err != nil {
			return err
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, m := range ms {
			if slices.Contains(applied, m.Version) {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.Version); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrating schema %q: %w", schema, err)
	}
	return nil
}

// Errors

// conflictFields maps the unique indexes of the migrations to ConflictError fields.
var conflictFields = map[string]string{
	"users_username_key":                     "username",
	"email_addresses_user_email_key":         "user_email",
	"email_addresses_verified_key":           "email",
	"api_tokens_key_hash_key":                "token",
	"social_accounts_provider_uid_key":       "social",
	"totp_devices_pkey":                      "totp",
	"webauthn_credentials_credential_id_key": "webauthn",
}

func notFound(kind string, id any) error {
	return fmt.Errorf("pgstore: %s %v: %w", kind, id, restauth.ErrNotFound)
}

// storeErr turns a database error into the contract's: a unique violation of a named index
// into a *restauth.ConflictError, a foreign-key violation into a missing user, a statement
// the server cancelled (statement_timeout) or a connect that timed out into
// restauth.ErrStoreTimeout, no rows into a missing kind/id. Other errors are wrapped as they are.
func storeErr(err error, kind string, id any) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			if f, ok := conflictFields[pe.ConstraintName]; ok {
				return &restauth.ConflictError{Field: f}
			}
		case "23503": // foreign_key_violation: the only foreign keys name users
			return fmt.Errorf("pgstore: user of %s: %w", kind, restauth.ErrNotFound)
		case "57014": // query_canceled: statement_timeout passed, and the statement was undone
			return fmt.Errorf("pgstore: %s %v: %w: %v", kind, id, restauth.ErrStoreTimeout, err)
		}
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) && pgconn.Timeout(err) {
		// The pool's connect timeout (DefaultConnectTimeout) passed before the request's
		// deadline did: the database is frozen or unreachable and nothing reached it, as
		// with the request's own deadline, so it is the same 503, not a server error.
		return fmt.Errorf("pgstore: %s %v: %w: %v", kind, id, restauth.ErrStoreTimeout, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(kind, id)
	}
	var ce *restauth.ConflictError
	if errors.As(err, &ce) || errors.Is(err, restauth.ErrNotFound) {
		return err // made by this package already
	}
	return fmt.Errorf("pgstore: %s %v: %w", kind, id, err)
}

// retryable reports a serialization failure or a deadlock, after which a transaction can
// simply run again. Neither happens with the locking this package does; a host application
// that changes the tables itself, or a server default of SERIALIZABLE, could cause them.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// inTx runs fn in a READ COMMITTED transaction, again (up to three times in all) if it
// fails in a way that a new attempt may not. In a transaction's view, fn runs once, in a
// savepoint of that transaction, so that a method failing halfway leaves nothing behind
// and the transaction usable.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.tx != nil {
		return pgx.BeginFunc(ctx, s.tx, fn)
	}
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil || attempt == 3 || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
}
