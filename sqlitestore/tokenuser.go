package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/restauth/restauth"
)

// tokenUserByHashSQL loads a token and its user in one query (restauth.TokenUserStore),
// packed into one TEXT column: the numbers (NULL as "-"), each followed by a space, then
// each string as its length in bytes, ":" and its bytes. modernc's driver costs two or
// three allocations per column of every row it returns (the column's name and declared
// type, the boxed value); one column instead of nineteen cuts the lookup's allocations by
// about two thirds, and its strings share one allocation. The user's id is the token's
// user_id.
//
// The hash is compared as CAST(? AS BLOB), not as a bare ?, so that the planner cannot see
// the bound value: with sqlite_stat4 samples of an index (after ANALYZE or PRAGMA
// optimize), SQLite plans a "column = ?" term with the value bound, and marks the statement
// to be prepared again whenever another value is bound, that is, on every lookup. The
// plan needs no value anyway: the unique index of key_hash finds one row.
const tokenUserByHashSQL = `SELECT printf('%d %d %s %s %s %d %d %d %d %s %s ',
	t.id, t.user_id, ifnull(t.created, '-'), ifnull(t.expiry, '-'), ifnull(t.last_seen, '-'), t.revoked,
	u.is_active, u.is_staff, u.is_superuser, ifnull(u.date_joined, '-'), ifnull(u.last_login, '-'))
 || octet_length(t.key_prefix) || ':' || t.key_prefix || octet_length(t.key_suffix) || ':' || t.key_suffix
 || octet_length(t.name) || ':' || t.name || octet_length(u.username) || ':' || u.username
 || octet_length(u.email) || ':' || u.email || octet_length(u.first_name) || ':' || u.first_name
 || octet_length(u.last_name) || ':' || u.last_name || octet_length(u.password) || ':' || u.password
 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_hash = CAST(? AS BLOB)`

// lookupContext is what a token lookup runs under: outside a transaction, ctx without
// its cancellation or deadline. modernc's driver, and database/sql, start a goroutine per
// query to watch a context that can end, which costs the lookup more than the index probe
// it guards; a lookup by the unique index of key_hash reads a handful of pages, and the
// one thing it can wait for, another process's lock, is bounded by the busy timeout.
func lookupContext(ctx context.Context, s *Store) context.Context {
	if s.tx != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// TokenAndUserByHash implements restauth.TokenUserStore: token authentication in one
// query, run as lookupContext says.
func (s *Store) TokenAndUserByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, *restauth.User, error) {
	r := &struct {
		t restauth.APIToken
		u restauth.User
	}{}
	rows, err := s.stmtQuery(lookupContext(ctx, s), s.tokenUserByHash, tokenUserByHashSQL, hash[:])
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitestore: token and user by hash: %w", err)
	}
	if !rows.Next() {
		err := rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("sqlitestore: token and user by hash: %w", err)
		}
		return nil, nil, errTokenNotFound
	}
	var packed string
	err = rows.Scan(&packed)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unpackTokenUser(packed, &r.t, &r.u)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitestore: token and user by hash: %w", err)
	}
	r.t.KeyHash = hash
	return &r.t, &r.u, nil
}

// errPackedRow reports a row of tokenUserByHashSQL that does not decode.
var errPackedRow = errors.New("malformed token and user row")

// unpackTokenUser decodes a row of tokenUserByHashSQL into t and u (KeyHash aside).
func unpackTokenUser(p string, t *restauth.APIToken, u *restauth.User) error {
	var nums [11]int64
	var null [11]bool
	for i := range nums {
		sp := strings.IndexByte(p, ' ')
		if sp < 0 {
			return errPackedRow
		}
		if f := p[:sp]; f == "-" {
			null[i] = true
		} else {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return errPackedRow
			}
			nums[i] = n
		}
		p = p[sp+1:]
	}
	at := func(i int) time.Time { return fromMicros(sql.NullInt64{Int64: nums[i], Valid: !null[i]}) }
	t.ID, t.UserID, u.ID = nums[0], nums[1], nums[1]
	t.Created, t.Expiry, t.LastSeen = at(2), at(3), at(4)
	t.Revoked, u.IsActive, u.IsStaff, u.IsSuperuser = nums[5] != 0, nums[6] != 0, nums[7] != 0, nums[8] != 0
	u.DateJoined, u.LastLogin = at(9), at(10)
	for _, dst := range [...]*string{&t.KeyPrefix, &t.KeySuffix, &t.Name, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash} {
		colon := strings.IndexByte(p, ':')
		if colon < 0 {
			return errPackedRow
		}
		n, err := strconv.Atoi(p[:colon])
		if err != nil || n < 0 || n > len(p)-colon-1 {
			return errPackedRow
		}
		*dst, p = p[colon+1:colon+1+n], p[colon+1+n:]
	}
	if p != "" {
		return errPackedRow
	}
	return nil
}
