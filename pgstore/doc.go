// Package pgstore is a restauth.Store on PostgreSQL, through a github.com/jackc/pgx/v5
// connection pool, for deployments that run one or many instances against one database.
//
// It lives in a Go module of its own (github.com/restauth/restauth/pgstore), so that
// programs that do not use PostgreSQL do not depend on a driver.
//
// # Opening
//
// Open connects and owns its pool; New uses a pool the application already has. Both bring
// the schema up to date before returning: the SQL files embedded from migrations/ are
// applied in order, each version recorded in a schema_migrations table, all in one
// transaction that holds a PostgreSQL advisory lock, so that several instances starting at
// once apply each migration exactly once. Migrations only ever get added; a binary older
// than the database ignores versions it does not know.
//
// The tables live in the schema "restauth" (created if missing) unless WithSchema names
// another; table names are schema-qualified in every statement, so the pool's search_path
// does not matter and several stores (or test runs) can share one database.
//
// # Correctness under concurrency
//
// Every uniqueness rule of the restauth.Store contract is a unique index: lower(username);
// (user_id, lower(email)); lower(email) WHERE verified; user_id WHERE is_primary; the token
// hash; (provider, uid); and the primary key user_id of the TOTP devices. A violation, including one caused by a concurrent transaction on
// another instance, comes back as a *restauth.ConflictError whose Field is named after the
// index, and a write naming a missing user (a foreign-key violation) as an error matching
// restauth.ErrNotFound. CreateUser stores the user and its address with one statement,
// atomic by itself. The other operations that write several rows (adding a primary
// address, verifying with makePrimaryIfNone, setting the primary, deleting an address) run
// in one READ COMMITTED transaction that first locks the user's row (FOR NO KEY UPDATE,
// which leaves foreign-key checks of concurrent inserts free), so that changes of a user's
// primary address are serialized and users.email keeps mirroring it; every transaction
// takes the user's lock before any address row, so they cannot deadlock. Replacing the
// recovery codes, and deleting the TOTP device with them, take the same lock, so that
// concurrent replacements leave exactly one set of codes. Single-use MFA records are spent
// by one conditional UPDATE each (UseTOTPStep: WHERE last_step < the step, the sealed
// secret is unchanged and, to confirm, the device is pending; UseRecoveryCode: WHERE used
// IS NULL), which PostgreSQL re-checks on a row a concurrent transaction has just changed,
// so that a TOTP code or recovery code is accepted once across instances; likewise
// CreateTOTPDevice is one upsert whose DO UPDATE replaces only a pending device. No
// operation needs SERIALIZABLE.
//
// "Case-insensitive" means as PostgreSQL's lower() under the database's collation, which
// agrees with strings.EqualFold for ASCII but may differ beyond it.
//
// # Transactions
//
// Store.InTx (restauth.Transactor) runs several operations in one READ COMMITTED
// transaction. Inside it, every write runs in a savepoint, so that a write refused by a
// unique index changes nothing and leaves the transaction usable, as outside it; the locks
// the operations take are held until the transaction ends.
//
// # Timeouts and unknown commit outcomes
//
// A frozen or vanished database must cost a request seconds, not the whole outage. Open
// (and PoolConfig, for a pool of your own given to New) sets, unless the DSN names them:
// a connect timeout (DefaultConnectTimeout), a health check of idle connections every
// DefaultHealthCheckPeriod, closing connections idle for DefaultMaxConnIdleTime, and a
// server-side statement_timeout on every connection (DefaultStatementTimeout,
// WithStatementTimeout), so that PostgreSQL itself ends a statement nobody waits for any
// more; such a statement comes back as an error matching restauth.ErrStoreTimeout.
// restauth bounds each request by Config.StoreTimeout; the store works under that
// context, so a request that runs out of time fails with the context's error and restauth
// answers 503 with Retry-After.
//
// A 503 must mean that nothing was committed. A transaction the deadline interrupts
// before its COMMIT is rolled back. The COMMIT itself is not cut short by the request's
// deadline: the store waits for its answer (at most the statement timeout), and should
// the connection break after the COMMIT was sent, it asks the server on another
// connection whether the transaction committed (txid_status): committed is success,
// aborted is an error, and no answer is ErrCommitOutcomeUnknown, which does not match the
// context's error and is answered 500 and logged. One statement outside a transaction
// (creating a user with its address, issuing a token, updating a user) commits by
// itself; when the deadline cuts the wait for its answer short after it was sent, whether
// it took effect is unknown and the error still matches the context's. Retrying those is
// safe or visible: a second registration of the same name or address is refused by the
// unique indexes, a second token is just another token, an update sets the same values.
//
// # Token authentication
//
// Every token-authenticated request looks its token up, so that path gets care the
// others do not need. TokenAndUserByHash (restauth.TokenUserStore) loads the token and its
// user with one joined statement, one round trip instead of two. With pgx's default
// pgx.QueryExecModeCacheStatement and no tracer, the lookups are prepared once per
// connection and run through pgconn's ExecStatement with binary results decoded directly,
// which skips pgx's generic scanning; other query modes (PgBouncer's transaction mode
// needs QueryExecModeExec or the simple protocol) take pgx's QueryRow and work the same.
// The lookup waits for a connection under the request's context but runs its statement
// detached from the request's cancellation (its deadline, and DefaultLookupTimeout, still
// apply): pgx closes a connection whose statement was cancelled mid-flight, and a client
// that hangs up would otherwise cost a new connection and new prepared statements.
//
// Open and PoolConfig size the pool at DefaultMaxConns() (max(8, 4 × GOMAXPROCS))
// connections unless the DSN names pool_max_conns: on a 2-core machine pgx's own default
// (4) leaves the process idle while the server answers. Keep instances × pool size well
// below the server's max_connections.
//
// # Token caches on many instances
//
// Store is a restauth.InvalidationNotifier: with restauth.Config.Tokens.Cache on, each
// instance's cache forgets a user's tokens as soon as any instance (or any tool writing
// the tables) changed that user's row, tokens, addresses or second factors. Triggers
// (migration 0009) notify the channel restauth_invalidate when such a change commits;
// WatchInvalidations listens on a connection of its own, outside the pool, and after a
// broken connection tells the cache to forget everything once it listens again. While the
// listener cannot reach the database, the cache's TTL bounds how long a revocation goes
// unseen. The triggers cost each credential write one notification; touching a token
// (last_seen) notifies nothing.
//
// # Times
//
// Times are stored as timestamptz at microsecond precision and returned in UTC; the zero
// time is stored as NULL and NULL is returned as the zero time. Token expiry and last use
// are dates (the UTC day of the time given).
//
// # Sessions
//
// SessionStore returns a store for github.com/alexedwards/scs/v2 sessions kept in the
// same schema, so that a session started on one instance is valid on all of them; pass it
// as restauth.Config.Sessions.Store. restauth keys each session by the SHA-256 of its id,
// so the table holds no id a browser could send back.
package pgstore
