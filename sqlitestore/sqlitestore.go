// Package sqlitestore is a restauth.Store kept in a SQLite database, through the pure-Go
// driver modernc.org/sqlite (no cgo). It is its own Go module, so that the restauth module
// itself pulls in no database driver.
//
// Open creates (readable by its owner only: mode 0600) or opens the database file,
// switches it to WAL mode and applies the embedded migrations (migrations/*.sql) that it
// has not applied yet, recording each in a schema_migrations table; reopening a database
// therefore changes nothing.
//
// The uniqueness rules of restauth.Store are enforced by the database with unique indexes,
// so that they hold even for several processes sharing the file:
//   - users: lower(username);
//   - email_addresses: (user_id, lower(email)); lower(email) WHERE verified;
//     user_id WHERE is_primary;
//   - api_tokens: key_hash (the 32-byte SHA-256, a BLOB);
//   - social_accounts: (provider, uid), compared exactly;
//   - totp_devices: user_id (the primary key).
//
// SQLite's lower() folds ASCII letters only, so usernames and addresses are compared
// case-insensitively for ASCII letters, and exactly beyond them ("É" and "é" are two
// different usernames here, though strings.EqualFold reports them equal). This is the
// subset of the restauth.Store contract that its conformance suite checks.
//
// Times are stored as INTEGER unix microseconds (UTC), the zero time as NULL; they come
// back in UTC with microsecond precision.
//
// SQLite lets one connection write at a time. The store therefore writes through a pool of
// exactly one connection, so that concurrent writers queue in Go (honouring their
// contexts) instead of spinning on SQLITE_BUSY, and reads through a separate pool of
// several connections that WAL mode lets run alongside the writer. Write transactions
// begin with BEGIN IMMEDIATE and every connection has a busy timeout, so that other
// processes using the same file wait for the write lock rather than fail.
//
// Single-use MFA records are spent by one conditional UPDATE each (UseTOTPStep raises
// last_step only WHERE last_step < the step and the sealed secret is the one the code was
// checked against, and confirms only a pending device; UseRecoveryCode marks a code used
// only WHERE it is unused), so that a TOTP code or recovery code is accepted once even by
// several processes sharing the file. CreateTOTPDevice is one upsert that replaces only a
// pending device, so a new enrolment never overwrites a confirmed one.
//
// Store.InTx (restauth.Transactor) runs several operations in one BEGIN IMMEDIATE
// transaction on the write connection; inside it, each operation that takes several
// statements runs in a SAVEPOINT, so that it stays atomic on its own.
//
// Token authentication, on every API request, takes one prepared statement on the read
// pool (TokenAndUserByHash, restauth.TokenUserStore) whose row is packed into one column,
// since modernc's driver costs allocations per column of every row; it runs detached from
// the request's context (see TokenAndUserByHash). Each connection has a page cache of
// DefaultCacheKiB and reads through a memory map of DefaultMmapBytes, so that random
// tokens of a large table are read from memory. ANALYZE and PRAGMA optimize are safe to
// run: the token lookups bind the hash as CAST(? AS BLOB), which the planner cannot look
// into, so sqlite_stat4 samples never make SQLite prepare them again on each call (a
// bare "column = ?" with samples is; a test shows both).
//
// Store is a restauth.InvalidationNotifier for token caches in several processes sharing
// the file: triggers log each credential change, and WatchInvalidations polls the log
// (see there).
//
// The store also keeps github.com/alexedwards/scs/v2 sessions: see Store.SessionStore.
package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth"
	"github.com/restauth/restauth/internal/migrations"
	"github.com/restauth/restauth/internal/periodic"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Store is a restauth.Store in a SQLite database. Create one with Open and release it
// with Close. It is safe for concurrent use.
type Store struct {
	wdb *sql.DB // one connection: every write goes through it
	rdb *sql.DB // readers; the same pool as wdb for an in-memory database

	tokenByHash *sql.Stmt // on rdb: the hot path of token authentication
	userByID    *sql.Stmt // on rdb: the next query of token authentication
	// tokenUserByHash is on rdb: token authentication in one query.
	tokenUserByHash *sql.Stmt

	cleanupInterval time.Duration
	cleanup         periodic.Task // deletes expired sessions once SessionStore starts it; Close stops it

	invalidationPoll time.Duration // see WatchInvalidations
	closing          chan struct{} // closed by Close: ends the invalidation watches

	// tx is set in a transaction's view (see InTx): every query goes through it. root is
	// then the Store that began the transaction.
	tx   *sql.Tx
	root *Store
}

// Compile-time checks of the interfaces Store implements.
var (
	_ restauth.Store          = (*Store)(nil)
	_ restauth.TokenUserStore = (*Store)(nil)
	_ restauth.Transactor     = (*Store)(nil)
)

// config holds what the options set.
type config struct {
	busyTimeout     time.Duration
	maxReadConns    int
	cleanupInterval time.Duration
	synchronous     string
	cacheKiB        int
	mmapBytes       int64
	// invalidationPoll is WatchInvalidations' interval.
	invalidationPoll time.Duration
}

// DefaultCacheKiB is each connection's page cache (SQLite's cache_size) unless
// WithCacheSize says otherwise: 16 MiB, where SQLite's own default is 2 MiB. Token
// authentication reads a random token of the whole table on every request; at 100,000
// tokens and users their pages no longer fit 2 MiB, and each miss costs a read. The pages
// are allocated as they are read, so a small database never uses the room.
const DefaultCacheKiB = 16 << 10

// DefaultMmapBytes is how much of the database file each connection reads through a
// shared memory map (SQLite's mmap_size) unless WithMmapSize says otherwise: 256 MiB. The
// operating system's page cache then holds those pages once for every connection, instead
// of a copy in each connection's cache.
const DefaultMmapBytes = 256 << 20

// Option changes how Open opens the database.
type Option func(*config)

// WithBusyTimeout sets how long a connection waits for a lock held by another process
// (SQLite's busy_timeout) before failing with SQLITE_BUSY. The default is 5 seconds.
// Writers within one Store never wait on each other this way: they queue for the store's
// single write connection instead.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = d }
}

// WithMaxReadConns sets the number of connections used for reads; the default is
// max(4, GOMAXPROCS). It has no effect on an in-memory database, which has one
// connection for everything.
func WithMaxReadConns(n int) Option {
	return func(c *config) { c.maxReadConns = n }
}

// WithSessionCleanupInterval sets how often the session store deletes expired sessions
// (see Store.SessionStore); the default is 5 minutes, and 0 disables the cleanup (expired
// sessions are still never found).
func WithSessionCleanupInterval(d time.Duration) Option {
	return func(c *config) { c.cleanupInterval = d }
}

// WithSynchronousFull makes every commit wait until it is on disk (PRAGMA synchronous =
// FULL). The default, NORMAL, is the usual choice in WAL mode: a crash of the process
// loses nothing and the database stays consistent, but a power loss may undo the last
// commits.
func WithSynchronousFull() Option {
	return func(c *config) { c.synchronous = "FULL" }
}

// WithCacheSize sets each connection's page cache in KiB (DefaultCacheKiB unless set).
func WithCacheSize(kib int) Option {
	return func(c *config) { c.cacheKiB = kib }
}

// WithMmapSize sets how many bytes of the database file each connection reads through a
// memory map (DefaultMmapBytes unless set); 0 turns memory-mapped reads off, for file
// systems where they are unsafe (a network file system).
func WithMmapSize(bytes int64) Option {
	return func(c *config) { c.mmapBytes = bytes }
}

// Open opens (creating it if needed) the SQLite database at path, a file name or a
// "file:" URI, and applies the migrations it lacks. A file name that does not exist yet is
// created with mode 0600 (see createPrivate); a URI's file is created by SQLite, with the
// umask. The special path ":memory:" gives a
// private in-memory database that lives until Close, with a single connection for reads
// and writes; use it for tests that need no concurrency, and a file (for example in
// t.TempDir()) otherwise.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlitestore: empty database path")
	}
	cfg := config{
		busyTimeout:     5 * time.Second,
		maxReadConns:    max(4, runtime.GOMAXPROCS(0)),
		cleanupInterval: 5 * time.Minute,
		synchronous:     "NORMAL",
		cacheKiB:        DefaultCacheKiB,
		mmapBytes:       DefaultMmapBytes,

		invalidationPoll: DefaultInvalidationPoll,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxReadConns < 1 {
		cfg.maxReadConns = 1
	}

	if cfg.invalidationPoll <= 0 {
		cfg.invalidationPoll = DefaultInvalidationPoll
	}
	s := &Store{cleanupInterval: cfg.cleanupInterval, invalidationPoll: cfg.invalidationPoll, closing: make(chan struct{})}
	common := []string{
		"_pragma=busy_timeout(" + strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10) + ")",
		"_pragma=foreign_keys(1)",
		"_pragma=cache_size(-" + strconv.Itoa(max(cfg.cacheKiB, 1)) + ")",
		"_pragma=mmap_size(" + strconv.FormatInt(max(cfg.mmapBytes, 0), 10) + ")",
	}
	var err error
	if path == ":memory:" {
		// Each connection to ":memory:" is a database of its own: keep exactly one, forever.
		s.wdb, err = sql.Open("sqlite", ":memory:?"+strings.Join(common, "&"))
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: %w", err)
		}
		s.wdb.SetMaxOpenConns(1)
		s.wdb.SetMaxIdleConns(1)
		s.wdb.SetConnMaxLifetime(0)
		s.wdb.SetConnMaxIdleTime(0)
		s.rdb = s.wdb
	} else {
		if err := createPrivate(path); err != nil {
			return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
		}
		base, sep := fileURI(path)
		w := append(slices.Clone(common),
			"_pragma=journal_mode(WAL)",
			"_pragma=synchronous("+cfg.synchronous+")",
			"_txlock=immediate")
		if s.wdb, err = sql.Open("sqlite", base+sep+strings.Join(w, "&")); err != nil {
			return nil, fmt.Errorf("sqlitestore: %w", err)
		}
		s.wdb.SetMaxOpenConns(1)
		s.wdb.SetMaxIdleConns(1)
		s.wdb.SetConnMaxIdleTime(0)
		// Make the file a WAL database before any reader connects.
		if err := s.wdb.PingContext(ctx); err != nil {
			s.wdb.Close()
			return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
		}
		r := append(slices.Clone(common), "_pragma=query_only(1)")
		if s.rdb, err = sql.Open("sqlite", base+sep+strings.Join(r, "&")); err != nil {
			s.wdb.Close()
			return nil, fmt.Errorf("sqlitestore: %w", err)
		}
		s.rdb.SetMaxOpenConns(cfg.maxReadConns)
		s.rdb.SetMaxIdleConns(cfg.maxReadConns)
	}

	if err := s.migrate(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.closeDBs()
		return nil, err
	}
	return s, nil
}

// createPrivate creates the database file path, empty (a new database to SQLite), with
// mode 0600 unless it exists: it holds password hashes, addresses and session data, and
// SQLite gives the -wal and -shm files beside it the database file's mode. Left to SQLite,
// the file would take the process's umask, 0644 under the usual 022: readable by every
// local account. An existing file keeps the mode its operator gave it, and a "file:" URI
// is SQLite's to open.
func createPrivate(path string) error {
	if strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// fileURI turns path into a "file:" URI for SQLite, returning it with the separator to
// put before further query parameters.
func fileURI(path string) (uri, sep string) {
	if strings.HasPrefix(path, "file:") {
		if strings.Contains(path, "?") {
			return path, "&"
		}
		return path, "?"
	}
	// Escape what a URI would misread, such as '?', '#' and '%'.
	return "file:" + (&url.URL{Path: path}).EscapedPath(), "?"
}

func (s *Store) prepare(ctx context.Context) error {
	var err error
	if s.tokenByHash, err = s.rdb.PrepareContext(ctx, tokenByHashSQL); err != nil {
		return fmt.Errorf("sqlitestore: prepare: %w", err)
	}
	if s.userByID, err = s.rdb.PrepareContext(ctx, userByIDSQL); err != nil {
		return fmt.Errorf("sqlitestore: prepare: %w", err)
	}
	if s.tokenUserByHash, err = s.rdb.PrepareContext(ctx, tokenUserByHashSQL); err != nil {
		return fmt.Errorf("sqlitestore: prepare: %w", err)
	}
	return nil
}

// DB returns the pool the store writes through, for the host application's own queries
// and tables in the same database. It has a single connection, which every write of the
// store (and, for an in-memory database, every read) waits for: keep transactions on it
// short. Do not close it; Close does.
func (s *Store) DB() *sql.DB { return s.wdb }

// Close stops the session cleanup and closes the database. The Store, its DB and its
// session store must not be used afterwards.
func (s *Store) Close() error {
	if s.root != nil {
		return errors.New("sqlitestore: Close of a transaction's store")
	}
	if !s.cleanup.Stop() {
		return nil // closed already
	}
	close(s.closing)
	return s.closeDBs()
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.tokenByHash, s.userByID, s.tokenUserByHash} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.rdb != nil && s.rdb != s.wdb {
		errs = append(errs, s.rdb.Close())
	}
	errs = append(errs, s.wdb.Close())
	return errors.Join(errs...)
}

// migrate applies the migrations the database lacks, all in one IMMEDIATE transaction,
// so that two processes opening a new database at once apply them once and a failed
// migration leaves the schema as it was.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations.Load(migrationFiles, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlitestore: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
) STRICT`); err != nil {
			return fmt.Errorf("sqlitestore: migrate: %w", err)
		}
		applied := map[int64]bool{}
		rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("sqlitestore: migrate: %w", err)
		}
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return fmt.Errorf("sqlitestore: migrate: %w", err)
			}
			applied[v] = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("sqlitestore: migrate: %w", err)
		}
		known := map[int64]bool{}
		for _, m := range ms {
			known[m.Version] = true
		}
		for v := range applied {
			if !known[v] {
				return fmt.Errorf("sqlitestore: the database has migration %d, which this version of sqlitestore does not know: it was written by a newer version", v)
			}
		}
		now := time.Now().UnixMicro()
		for _, m := range ms {
			if applied[m.Version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("sqlitestore: migration %s: %w", m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.Version, now); err != nil {
				return fmt.Errorf("sqlitestore: migration %s: %w", m.Name, err)
			}
		}
		return nil
	})
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE on the write connection) and
// commits it if fn returns nil. In a transaction's view, fn runs in a savepoint of that
// transaction instead, so that a method failing halfway leaves nothing behind there too.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, func() error { return fn(s.tx) })
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	return nil
}
