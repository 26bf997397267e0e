package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/restauth/restauth"
)

// tokenByHashSQL leaves out key_hash, which the caller already has, and sealed_key, which
// authentication never reads. The CAST hides the value from the planner (see
// tokenUserByHashSQL).
const tokenByHashSQL = `SELECT id, user_id, key_prefix, key_suffix, name, created, expiry, last_seen, revoked FROM api_tokens WHERE key_hash = CAST(? AS BLOB)`

const tokenCols = `id, user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked, sealed_key`

// CreateToken implements restauth.Store. An unknown t.UserID matches restauth.ErrNotFound.
func (s *Store) CreateToken(ctx context.Context, t *restauth.APIToken) error {
	res, err := s.w().ExecContext(ctx, `INSERT INTO api_tokens (user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked, sealed_key)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.UserID, t.KeyHash[:], t.KeyPrefix, t.KeySuffix, t.Name, micros(t.Created), micros(t.Expiry), micros(t.LastSeen), t.Revoked, nullBlob(t.SealedKey))
	if err != nil {
		return writeErr(err, "create token", t.UserID)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlitestore: create token: %w", err)
	}
	t.ID = id
	return nil
}

// nullBlob stores a nil slice as NULL, never as an empty blob, so that it reads back nil.
func nullBlob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// errTokenNotFound is preallocated so that looking up an unknown key, which anyone can
// provoke by sending made-up tokens, allocates no error.
var errTokenNotFound = fmt.Errorf("sqlitestore: token: %w", restauth.ErrNotFound)

// TokenByHash implements restauth.Store with one prepared query on the unique index of
// key_hash. Beyond what the driver needs, it allocates the returned token (with room for
// the scanned times) and its three strings.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, error) {
	// One allocation holds the token and the NULL-able columns scanned for it.
	r := &struct {
		t                     restauth.APIToken
		created, expiry, seen sql.NullInt64
	}{t: restauth.APIToken{KeyHash: hash}}
	t := &r.t
	rows, err := s.stmtQuery(lookupContext(ctx, s), s.tokenByHash, tokenByHashSQL, t.KeyHash[:]) // t is on the heap already
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: token by hash: %w", err)
	}
	if !rows.Next() {
		err := rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: token by hash: %w", err)
		}
		return nil, errTokenNotFound
	}
	err = rows.Scan(&t.ID, &t.UserID, &t.KeyPrefix, &t.KeySuffix, &t.Name, &r.created, &r.expiry, &r.seen, &t.Revoked)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: token by hash: %w", err)
	}
	t.Created, t.Expiry, t.LastSeen = fromMicros(r.created), fromMicros(r.expiry), fromMicros(r.seen)
	return t, nil
}

// scanToken reads a row of tokenCols.
func scanToken(rows *sql.Rows, t *restauth.APIToken) error {
	var hash sql.RawBytes
	var created, expiry, seen sql.NullInt64
	if err := rows.Scan(&t.ID, &t.UserID, &hash, &t.KeyPrefix, &t.KeySuffix, &t.Name,
		&created, &expiry, &seen, &t.Revoked, &t.SealedKey); err != nil {
		return err
	}
	if len(hash) != len(t.KeyHash) {
		return fmt.Errorf("token %d: key hash of %d bytes", t.ID, len(hash))
	}
	copy(t.KeyHash[:], hash)
	t.Created, t.Expiry, t.LastSeen = fromMicros(created), fromMicros(expiry), fromMicros(seen)
	return nil
}

// TokenByID implements restauth.Store.
func (s *Store) TokenByID(ctx context.Context, id int64) (*restauth.APIToken, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: token %d: %w", id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlitestore: token %d: %w", id, err)
		}
		return nil, notFound("token", id)
	}
	t := new(restauth.APIToken)
	if err := scanToken(rows, t); err != nil {
		return nil, fmt.Errorf("sqlitestore: token %d: %w", id, err)
	}
	return t, nil
}

// Tokens implements restauth.Store.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]restauth.APIToken, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: tokens: %w", err)
	}
	defer rows.Close()
	out := []restauth.APIToken{}
	for rows.Next() {
		var t restauth.APIToken
		if err := scanToken(rows, &t); err != nil {
			return nil, fmt.Errorf("sqlitestore: tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: tokens: %w", err)
	}
	return out, nil
}

// RevokeToken implements restauth.Store.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	res, err := s.w().ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE id = ?`, id)
	return affected(res, err, "token", id)
}

// TouchToken implements restauth.Store.
func (s *Store) TouchToken(ctx context.Context, id int64, day time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE api_tokens SET last_seen = ? WHERE id = ?`, micros(day), id)
	return affected(res, err, "token", id)
}
