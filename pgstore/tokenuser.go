package pgstore

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

// tokenUser is the token and the user TokenAndUserByHash returns, in one allocation.
type tokenUser struct {
	t restauth.APIToken
	u restauth.User
}

// TokenAndUserByHash implements restauth.TokenUserStore: token authentication in one
// round trip, a join by the unique index on key_hash and the users' primary key. Like
// TokenByHash, it runs on pgconn's prepared fast path when the pool allows it and
// detached from ctx's cancellation (see lookupContext).
func (s *Store) TokenAndUserByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, *restauth.User, error) {
	var (
		r   *tokenUser
		err error
	)
	if s.fastTokens {
		r, err = fastLookup(ctx, s, s.q.tokenUserByHash, hash, decodeTokenUser)
	} else {
		r, err = s.tokenUserQueryRow(ctx, hash)
	}
	if err != nil {
		if err == errTokenNotFound {
			return nil, nil, err
		}
		return nil, nil, storeErr(err, "token and user", "by hash")
	}
	return &r.t, &r.u, nil
}

// userColumns is the number of user columns of the tokenUserByHash statement, after the
// token's.
const userColumns = 10

// decodeTokenUser decodes a binary row of the tokenUserByHash statement: the token's
// columns as decodeToken reads them, then username, email, first_name, last_name,
// password (text); is_active, is_staff, is_superuser (bool); date_joined, last_login
// (timestamptz). The user's id is the token's user_id.
func decodeTokenUser(v [][]byte, hash [32]byte) (*tokenUser, error) {
	if len(v) != tokenColumns+userColumns {
		return nil, errors.New("pgstore: unexpected token and user row")
	}
	r := &tokenUser{}
	if err := decodeTokenInto(&r.t, v, hash); err != nil {
		return nil, err
	}
	uv := v[tokenColumns:]
	if len(uv[5]) != 1 || len(uv[6]) != 1 || len(uv[7]) != 1 {
		return nil, errors.New("pgstore: unexpected user row")
	}
	u := &r.u
	u.ID = r.t.UserID
	s := joinedStrings(uv[:5])
	u.Username, u.Email, u.FirstName, u.LastName, u.PasswordHash = s[0], s[1], s[2], s[3], s[4]
	u.IsActive, u.IsStaff, u.IsSuperuser = uv[5][0] != 0, uv[6][0] != 0, uv[7][0] != 0
	var err error
	if u.DateJoined, err = decodeTimestamptz(uv[8]); err != nil {
		return nil, err
	}
	if u.LastLogin, err = decodeTimestamptz(uv[9]); err != nil {
		return nil, err
	}
	return r, nil
}

// tokenUserQueryRow is TokenAndUserByHash through pgx's QueryRow, for pools configured
// for other query modes (such as for PgBouncer) or with a tracer, and in transactions.
func (s *Store) tokenUserQueryRow(ctx context.Context, hash [32]byte) (*tokenUser, error) {
	detached := s.tx == nil
	if detached {
		var cancel context.CancelFunc
		ctx, cancel = lookupContext(ctx)
		defer cancel()
	}
	r := &tokenUser{}
	t, u := &r.t, &r.u
	var (
		created, joined, login pgtype.Timestamptz
		expiry, seen           pgtype.Date
	)
	err := s.reader().QueryRow(ctx, s.q.tokenUserByHash, hash[:]).Scan(&t.ID, &t.UserID,
		&t.KeyPrefix, &t.KeySuffix, &t.Name, &created, &expiry, &seen, &t.Revoked,
		&u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
		&u.IsActive, &u.IsStaff, &u.IsSuperuser, &joined, &login)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, errTokenNotFound
		}
		if detached {
			err = lookupFailed(ctx, err)
		}
		return nil, err
	}
	t.KeyHash, u.ID = hash, t.UserID
	t.Created, t.Expiry, t.LastSeen = fromTS(created), fromDate(expiry), fromDate(seen)
	u.DateJoined, u.LastLogin = fromTS(joined), fromTS(login)
	return r, nil
}
