package pgstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

// scanToken reads the tokenCols of one row.
func scanToken(row pgx.Row, t *restauth.APIToken) error {
	var (
		hash                 []byte
		created              pgtype.Timestamptz
		expiry, lastSeen     pgtype.Date
		prefix, suffix, name string
	)
	if err := row.Scan(&t.ID, &t.UserID, &hash, &prefix, &suffix, &name,
		&created, &expiry, &lastSeen, &t.Revoked, &t.SealedKey); err != nil {
		return err
	}
	if len(hash) != len(t.KeyHash) {
		return fmt.Errorf("key hash of %d bytes", len(hash))
	}
	copy(t.KeyHash[:], hash)
	t.KeyPrefix, t.KeySuffix, t.Name = prefix, suffix, name
	t.Created, t.Expiry, t.LastSeen = fromTS(created), fromDate(expiry), fromDate(lastSeen)
	return nil
}

// CreateToken implements restauth.Store. Expiry and LastSeen are stored as their UTC day.
func (s *Store) CreateToken(ctx context.Context, t *restauth.APIToken) error {
	var id int64
	err := s.writer().QueryRow(ctx, s.q.createToken, t.UserID, t.KeyHash[:], t.KeyPrefix, t.KeySuffix,
		t.Name, ts(t.Created), date(t.Expiry), date(t.LastSeen), t.Revoked, t.SealedKey).Scan(&id)
	if err != nil {
		return storeErr(err, "token of user", t.UserID)
	}
	t.ID = id
	return nil
}

// errTokenNotFound is preallocated so that looking up an unknown key, which anyone can
// provoke by sending made-up tokens, allocates no error.
var errTokenNotFound = fmt.Errorf("pgstore: token: %w", restauth.ErrNotFound)

// TokenByHash implements restauth.Store with one statement, by the unique index on
// key_hash; the hash and the sealed key (which authentication never reads) are not read
// back.
//
// When the pool uses pgx's default pgx.QueryExecModeCacheStatement and no tracer, the
// statement is prepared once per connection and run through pgconn with binary results
// decoded here, which saves most of the allocations of pgx's generic row scanning (the
// lookup then costs the returned token and its strings); otherwise it goes through
// QueryRow like every other method. Either way it runs detached from ctx's cancellation
// (see lookupContext).
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	if !s.fastTokens {
		return s.tokenByHashQueryRow(ctx, hash)
	}
	t, err := fastLookup(ctx, s, s.q.tokenByHash, hash, decodeToken)
	if err != nil {
		if err == errTokenNotFound {
			return nil, err
		}
		return nil, storeErr(err, "token", "by hash")
	}
	return t, nil
}

// DefaultLookupTimeout bounds a token lookup (TokenByHash, TokenAndUserByHash) once it
// runs detached from its caller's cancellation (see lookupContext).
const DefaultLookupTimeout = 2 * time.Second

// lookupContext is the context a token lookup runs its statement under: ctx without its
// cancellation, ending at ctx's deadline or after DefaultLookupTimeout, whichever comes
// first. When a context ends mid-statement, pgx cannot tell whether the answer will still
// come and closes the connection; the next request then pays for a new connection and for
// preparing its statements again. Clients that hang up mid-request (load balancers,
// impatient scripts, the end of a benchmark round) cancel their request's context all the
// time, and a token lookup takes a millisecond at most, so it is cheaper to finish it.
// Deadlines are kept: one that runs out means the database is slow, and then a request
// must not wait longer than it was told to.
func lookupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(DefaultLookupTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline)
}

// lookupFailed is err of a statement run under lctx (lookupContext): when lctx's deadline
// has passed it is restauth.ErrStoreTimeout, the 503 of a database that did not answer in
// time. The caller's own context has not ended when DefaultLookupTimeout comes first, so
// without this the dialects would see a bare deadline error and answer 500.
func lookupFailed(lctx context.Context, err error) error {
	if err != nil && err != errTokenNotFound && errors.Is(lctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("pgstore: token lookup: %w: %v", restauth.ErrStoreTimeout, err)
	}
	return err
}

// fastLookup runs the statement sql, whose one parameter is hash, prepared on a pooled
// connection and with binary results, and decodes its one row with decode; a statement
// that finds no row returns errTokenNotFound. The connection is waited for under ctx (a
// caller that gives up waiting costs nothing), the statement runs under lookupContext.
func fastLookup[T any](ctx context.Context, s *Store, sql string, hash [32]byte,
	decode func(v [][]byte, hash [32]byte) (T, error)) (T, error) {
	var zero T
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return zero, err
	}
	defer c.Release()
	lctx, cancel := lookupContext(ctx)
	defer cancel()
	v, err := runPrepared(lctx, c.Conn(), sql, hash, decode)
	if stalePrepared(err) {
		// The table changed under the prepared statement, or someone deallocated it:
		// forget it (closing a missing statement is no error) and prepare it again.
		if err = c.Conn().Deallocate(lctx, sql); err == nil {
			v, err = runPrepared(lctx, c.Conn(), sql, hash, decode)
		}
	}
	return v, lookupFailed(lctx, err)
}

// stalePrepared reports the errors of a prepared statement that preparing it again cures:
// "cached plan must not change result type" and "prepared statement does not exist".
func stalePrepared(err error) bool {
	if err == nil || err == errTokenNotFound {
		return false // without allocating pe below
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "0A000" || pe.Code == "26000")
}

// binaryFormat asks for every parameter and result column in binary.
var binaryFormat = []int16{1}

// runPrepared is one attempt of fastLookup on conn.
func runPrepared[T any](ctx context.Context, conn *pgx.Conn, sql string, hash [32]byte,
	decode func(v [][]byte, hash [32]byte) (T, error)) (T, error) {
	var v T
	// With the SQL as its name, pgx prepares the statement under a name derived from the
	// SQL once per connection and finds it in its map afterwards.
	sd, err := conn.Prepare(ctx, sql, sql)
	if err != nil {
		return v, err
	}
	params := [1][]byte{hash[:]}
	rr := conn.PgConn().ExecStatement(ctx, sd, params[:], binaryFormat, binaryFormat)
	found := false
	var decodeErr error
	if rr.NextRow() {
		found = true
		v, decodeErr = decode(rr.Values(), hash)
	}
	if _, err := rr.Close(); err != nil {
		return v, err
	}
	if decodeErr != nil {
		return v, decodeErr
	}
	if !found {
		return v, errTokenNotFound
	}
	return v, nil
}

// pgEpochMicros is 2000-01-01 UTC, PostgreSQL's epoch, in Unix microseconds.
const pgEpochMicros = 946684800 * 1_000_000

// decodeToken decodes a binary row of the tokenByHash statement: id, user_id (int8);
// key_prefix, key_suffix, name (text); created (timestamptz); expiry, last_seen (date);
// revoked (bool).
func decodeToken(v [][]byte, hash [32]byte) (*restauth.APIToken, error) {
	t := &restauth.APIToken{}
	if err := decodeTokenInto(t, v, hash); err != nil {
		return nil, err
	}
	return t, nil
}

// tokenColumns is the number of columns decodeTokenInto reads.
const tokenColumns = 9

// decodeTokenInto decodes the first tokenColumns columns of v as decodeToken does, into t.
func decodeTokenInto(t *restauth.APIToken, v [][]byte, hash [32]byte) error {
	if len(v) < tokenColumns || len(v[0]) != 8 || len(v[1]) != 8 || len(v[8]) != 1 {
		return errors.New("pgstore: unexpected token row")
	}
	t.ID = int64(binary.BigEndian.Uint64(v[0]))
	t.UserID = int64(binary.BigEndian.Uint64(v[1]))
	t.KeyHash = hash
	t.Revoked = v[8][0] != 0
	// The three strings share one allocation.
	s := joinedStrings(v[2:5])
	t.KeyPrefix, t.KeySuffix, t.Name = s[0], s[1], s[2]

	var err error
	if t.Created, err = decodeTimestamptz(v[5]); err != nil {
		return err
	}
	if t.Expiry, err = decodeDate(v[6]); err != nil {
		return err
	}
	if t.LastSeen, err = decodeDate(v[7]); err != nil {
		return err
	}
	return nil
}

// maxJoined is the most strings joinedStrings splits.
const maxJoined = 8

// joinedStrings returns the text columns cols (at most maxJoined) as strings that share
// one allocation.
func joinedStrings(cols [][]byte) [maxJoined]string {
	var out [maxJoined]string
	n := 0
	for _, c := range cols {
		n += len(c)
	}
	var b strings.Builder
	b.Grow(n)
	for _, c := range cols {
		b.Write(c)
	}
	all := b.String()
	for i, c := range cols {
		out[i], all = all[:len(c)], all[len(c):]
	}
	return out
}

// decodeTimestamptz decodes a binary timestamptz in UTC, NULL as the zero time.
func decodeTimestamptz(b []byte) (time.Time, error) {
	if b == nil {
		return time.Time{}, nil
	}
	if len(b) != 8 {
		return time.Time{}, errors.New("pgstore: unexpected timestamptz")
	}
	us := int64(binary.BigEndian.Uint64(b))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return time.Time{}, errors.New("pgstore: infinite timestamp")
	}
	return time.UnixMicro(us + pgEpochMicros).UTC(), nil
}

// decodeDate decodes a binary date as UTC midnight, NULL as the zero time.
func decodeDate(b []byte) (time.Time, error) {
	if b == nil {
		return time.Time{}, nil
	}
	if len(b) != 4 {
		return time.Time{}, errors.New("pgstore: unexpected date")
	}
	days := int32(binary.BigEndian.Uint32(b))
	if days == math.MaxInt32 || days == math.MinInt32 {
		return time.Time{}, errors.New("pgstore: infinite token date")
	}
	return time.Date(2000, time.January, 1+int(days), 0, 0, 0, 0, time.UTC), nil
}

// tokenRow receives the columns of the tokenByHash statement; it is one allocation
// together with the returned token.
type tokenRow struct {
	tok              restauth.APIToken
	created          pgtype.Timestamptz
	expiry, lastSeen pgtype.Date
	hash             [32]byte
}

// tokenByHashQueryRow is TokenByHash through pgx's QueryRow, for pools configured for
// other query modes (such as for PgBouncer) or with a tracer.
func (s *Store) tokenByHashQueryRow(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	r := &tokenRow{hash: hash}
	detached := s.tx == nil
	if detached {
		var cancel context.CancelFunc
		ctx, cancel = lookupContext(ctx)
		defer cancel()
	}
	err := s.reader().QueryRow(ctx, s.q.tokenByHash, r.hash[:]).Scan(&r.tok.ID, &r.tok.UserID,
		&r.tok.KeyPrefix, &r.tok.KeySuffix, &r.tok.Name, &r.created, &r.expiry, &r.lastSeen, &r.tok.Revoked)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errTokenNotFound
		}
		if detached {
			err = lookupFailed(ctx, err)
		}
		return nil, storeErr(err, "token", "by hash")
	}
	t := &r.tok
	t.KeyHash = hash
	t.Created, t.Expiry, t.LastSeen = fromTS(r.created), fromDate(r.expiry), fromDate(r.lastSeen)
	return t, nil
}

// TokenByID implements restauth.Store.
func (s *Store) TokenByID(ctx context.Context, id int64) (*restauth.APIToken, error) {
	t := new(restauth.APIToken)
	if err := scanToken(s.reader().QueryRow(ctx, s.q.tokenByID, id), t); err != nil {
		return nil, storeErr(err, "token", id)
	}
	return t, nil
}

// Tokens implements restauth.Store.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]restauth.APIToken, error) {
	rows, err := s.reader().Query(ctx, s.q.tokensOfUser, userID)
	if err != nil {
		return nil, storeErr(err, "tokens of user", userID)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (restauth.APIToken, error) {
		var t restauth.APIToken
		err := scanToken(r, &t)
		return t, err
	})
	if err != nil {
		return nil, storeErr(err, "tokens of user", userID)
	}
	if ts == nil {
		ts = []restauth.APIToken{}
	}
	return ts, nil
}

// RevokeToken implements restauth.Store.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.execOne(ctx, "token", id, s.q.revokeToken, id)
}

// TouchToken implements restauth.Store; the token keeps the UTC day of day.
func (s *Store) TouchToken(ctx context.Context, id int64, day time.Time) error {
	return s.execOne(ctx, "token", id, s.q.touchToken, id, date(day))
}

// execOne runs a statement that must change one row: none means kind id is missing.
func (s *Store) execOne(ctx context.Context, kind string, id int64, sql string, args ...any) error {
	tag, err := s.writer().Exec(ctx, sql, args...)
	if err != nil {
		return storeErr(err, kind, id)
	}
	if tag.RowsAffected() == 0 {
		return notFound(kind, id)
	}
	return nil
}
