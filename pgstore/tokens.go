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
		return storeErr(err, "token", t.KeyPrefix)
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
// QueryRow like every other method.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	if !s.fastTokens {
		return s.tokenByHashQueryRow(ctx, hash)
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, storeErr(err, "token", "by hash")
	}
	defer c.Release()
	t, err := s.tokenByHashPrepared(ctx, c.Conn(), hash)
	if stalePrepared(err) {
		// The table changed under the prepared statement, or someone deallocated it:
		// forget it (closing a missing statement is no error) and prepare it again.
		if err = c.Conn().Deallocate(ctx, s.q.tokenByHash); err == nil {
			t, err = s.tokenByHashPrepared(ctx, c.Conn(), hash)
		}
	}
	if err != nil {
		if err == errTokenNotFound {
			return nil, err
		}
		return nil, storeErr(err, "token", "by hash")
	}
	return t, nil
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

func (s *Store) tokenByHashPrepared(ctx context.Context, conn *pgx.Conn, hash [32]byte) (*restauth.APIToken, error) {
	// With the SQL as its name, pgx prepares the statement under a name derived from the
	// SQL once per connection and finds it in its map afterwards.
	sd, err := conn.Prepare(ctx, s.q.tokenByHash, s.q.tokenByHash)
	if err != nil {
		return nil, err
	}
	params := [1][]byte{hash[:]}
	rr := conn.PgConn().ExecStatement(ctx, sd, params[:], binaryFormat, binaryFormat)
	var (
		t         *restauth.APIToken
		decodeErr error
	)
	if rr.NextRow() {
		t, decodeErr = decodeToken(rr.Values(), hash)
	}
	if _, err := rr.Close(); err != nil {
		return nil, err
	}
	if decodeErr != nil {
		return nil, decodeErr
	}
	if t == nil {
		return nil, errTokenNotFound
	}
	return t, nil
}

// pgEpochMicros is 2000-01-01 UTC, PostgreSQL's epoch, in Unix microseconds.
const pgEpochMicros = 946684800 * 1_000_000

// decodeToken decodes a binary row of the tokenByHash statement: id, user_id (int8);
// key_prefix, key_suffix, name (text); created (timestamptz); expiry, last_seen (date);
// revoked (bool).
func decodeToken(v [][]byte, hash [32]byte) (*restauth.APIToken, error) {
	if len(v) != 9 || len(v[0]) != 8 || len(v[1]) != 8 || len(v[8]) != 1 {
		return nil, errors.New("pgstore: unexpected token row")
	}
	t := &restauth.APIToken{
		ID:      int64(binary.BigEndian.Uint64(v[0])),
		UserID:  int64(binary.BigEndian.Uint64(v[1])),
		KeyHash: hash,
		Revoked: v[8][0] != 0,
	}
	// The three strings share one allocation.
	var b strings.Builder
	b.Grow(len(v[2]) + len(v[3]) + len(v[4]))
	b.Write(v[2])
	b.Write(v[3])
	b.Write(v[4])
	all := b.String()
	t.KeyPrefix, all = all[:len(v[2])], all[len(v[2]):]
	t.KeySuffix, t.Name = all[:len(v[3])], all[len(v[3]):]

	var err error
	if v[5] != nil {
		if len(v[5]) != 8 {
			return nil, errors.New("pgstore: unexpected timestamptz")
		}
		us := int64(binary.BigEndian.Uint64(v[5]))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return nil, errors.New("pgstore: infinite token creation time")
		}
		t.Created = time.UnixMicro(us + pgEpochMicros).UTC()
	}
	if t.Expiry, err = decodeDate(v[6]); err != nil {
		return nil, err
	}
	if t.LastSeen, err = decodeDate(v[7]); err != nil {
		return nil, err
	}
	return t, nil
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
	err := s.reader().QueryRow(ctx, s.q.tokenByHash, r.hash[:]).Scan(&r.tok.ID, &r.tok.UserID,
		&r.tok.KeyPrefix, &r.tok.KeySuffix, &r.tok.Name, &r.created, &r.expiry, &r.lastSeen, &r.tok.Revoked)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errTokenNotFound
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
