package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/restauth/restauth"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

const userCols = `id, username, email, first_name, last_name, password, is_active, is_staff, is_superuser, date_joined, last_login`

const userByIDSQL = `SELECT ` + userCols + ` FROM users WHERE id = ?`

func scanUser(sc scanner) (*restauth.User, error) {
	u := new(restauth.User)
	var joined, login sql.NullInt64
	if err := sc.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
		&u.IsActive, &u.IsStaff, &u.IsSuperuser, &joined, &login); err != nil {
		return nil, err
	}
	u.DateJoined, u.LastLogin = fromMicros(joined), fromMicros(login)
	return u, nil
}

// CreateUser implements restauth.Store: the user and, if given, the address are inserted
// in one transaction. IDs (and u.Email, when the address is primary) are written back only
// when both were stored.
func (s *Store) CreateUser(ctx context.Context, u *restauth.User, email *restauth.EmailAddress) error {
	userEmail := u.Email
	if email != nil && email.Primary {
		userEmail = email.Email
	}
	var uid, eid int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO users (username, email, first_name, last_name, password,
	is_active, is_staff, is_superuser, date_joined, last_login) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.Username, userEmail, u.FirstName, u.LastName, u.PasswordHash,
			u.IsActive, u.IsStaff, u.IsSuperuser, micros(u.DateJoined), micros(u.LastLogin))
		if err != nil {
			return writeErr(err, "create user", 0)
		}
		if uid, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlitestore: create user: %w", err)
		}
		if email == nil {
			return nil
		}
		res, err = tx.ExecContext(ctx, `INSERT INTO email_addresses (user_id, email, verified, is_primary) VALUES (?, ?, ?, ?)`,
			uid, email.Email, email.Verified, email.Primary)
		if err != nil {
			return writeErr(err, "create user", uid)
		}
		if eid, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlitestore: create user: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	u.ID, u.Email = uid, userEmail
	if email != nil {
		email.ID, email.UserID = eid, uid
	}
	return nil
}

// UserByID implements restauth.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*restauth.User, error) {
	u, err := scanUser(s.userByID.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user %d: %w", id, err)
	}
	return u, nil
}

// UserByUsername implements restauth.Store. Case is ignored for ASCII letters only.
func (s *Store) UserByUsername(ctx context.Context, username string) (*restauth.User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE lower(username) = lower(?)`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", fmt.Sprintf("%q", username))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: user %q: %w", username, err)
	}
	return u, nil
}

// UsersByEmail implements restauth.Store. Case is ignored for ASCII letters only.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]*restauth.User, error) {
	out := []*restauth.User{}
	if email == "" {
		return out, nil
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE id IN (
	SELECT id FROM users WHERE lower(email) = lower(?)
	UNION SELECT user_id FROM email_addresses WHERE lower(email) = lower(?)
) ORDER BY id`, email, email)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: users by e-mail: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: users by e-mail: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: users by e-mail: %w", err)
	}
	return out, nil
}

// UpdateUser implements restauth.Store. One UPDATE sets exactly the non-nil fields, so
// concurrent updates of different fields never undo each other.
func (s *Store) UpdateUser(ctx context.Context, id int64, upd restauth.UserUpdate) (*restauth.User, error) {
	var q strings.Builder
	args := make([]any, 0, 9)
	add := func(col string, v any) {
		if len(args) == 0 {
			q.WriteString("UPDATE users SET ")
		} else {
			q.WriteString(", ")
		}
		q.WriteString(col)
		q.WriteString(" = ?")
		args = append(args, v)
	}
	if upd.Username != nil {
		add("username", *upd.Username)
	}
	if upd.FirstName != nil {
		add("first_name", *upd.FirstName)
	}
	if upd.LastName != nil {
		add("last_name", *upd.LastName)
	}
	if upd.PasswordHash != nil {
		add("password", *upd.PasswordHash)
	}
	if upd.LastLogin != nil {
		add("last_login", micros(*upd.LastLogin))
	}
	if upd.IsActive != nil {
		add("is_active", *upd.IsActive)
	}
	if upd.IsStaff != nil {
		add("is_staff", *upd.IsStaff)
	}
	if upd.IsSuperuser != nil {
		add("is_superuser", *upd.IsSuperuser)
	}
	if len(args) == 0 {
		return s.UserByID(ctx, id)
	}
	q.WriteString(" WHERE id = ? RETURNING " + userCols)
	args = append(args, id)
	u, err := scanUser(s.wdb.QueryRowContext(ctx, q.String(), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, writeErr(err, "update user", id)
	}
	return u, nil
}

// DeleteUser implements restauth.Store. The schema's ON DELETE CASCADE removes the user's
// addresses, tokens, social accounts, TOTP device and recovery codes in the same statement.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	return affected(res, err, "user", id)
}

// affected turns the result of an UPDATE or DELETE of one row by id into nil, an error
// matching restauth.ErrNotFound when no row had that id, or a wrapped error.
func affected(res sql.Result, err error, kind string, id int64) error {
	if err != nil {
		return fmt.Errorf("sqlitestore: %s %d: %w", kind, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: %s %d: %w", kind, id, err)
	}
	if n == 0 {
		return notFound(kind, id)
	}
	return nil
}

const emailCols = `id, user_id, email, verified, is_primary`

func scanEmail(sc scanner, e *restauth.EmailAddress) error {
	return sc.Scan(&e.ID, &e.UserID, &e.Email, &e.Verified, &e.Primary)
}

// EmailAddresses implements restauth.Store.
func (s *Store) EmailAddresses(ctx context.Context, userID int64) ([]restauth.EmailAddress, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+emailCols+` FROM email_addresses WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: e-mail addresses: %w", err)
	}
	defer rows.Close()
	out := []restauth.EmailAddress{}
	for rows.Next() {
		var e restauth.EmailAddress
		if err := scanEmail(rows, &e); err != nil {
			return nil, fmt.Errorf("sqlitestore: e-mail addresses: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: e-mail addresses: %w", err)
	}
	return out, nil
}

// EmailAddressByID implements restauth.Store.
func (s *Store) EmailAddressByID(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	e := new(restauth.EmailAddress)
	err := scanEmail(s.rdb.QueryRowContext(ctx, `SELECT `+emailCols+` FROM email_addresses WHERE id = ?`, id), e)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("email address", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: email address %d: %w", id, err)
	}
	return e, nil
}

// AddEmailAddress implements restauth.Store. An unknown e.UserID matches
// restauth.ErrNotFound.
func (s *Store) AddEmailAddress(ctx context.Context, e *restauth.EmailAddress) error {
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if e.Primary {
			if _, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 0 WHERE user_id = ? AND is_primary`, e.UserID); err != nil {
				return fmt.Errorf("sqlitestore: add e-mail address: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO email_addresses (user_id, email, verified, is_primary) VALUES (?, ?, ?, ?)`,
			e.UserID, e.Email, e.Verified, e.Primary)
		if err != nil {
			err = writeErr(err, "add e-mail address", e.UserID)
			if ce := (*restauth.ConflictError)(nil); errors.As(err, &ce) && ce.Field == "email" {
				// Both the verified and the per-user index may have refused the row; the
				// user's own duplicate is the more specific answer.
				var held bool
				if herr := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM email_addresses WHERE user_id = ? AND lower(email) = lower(?))`,
					e.UserID, e.Email).Scan(&held); herr != nil {
					return fmt.Errorf("sqlitestore: add e-mail address: %w", herr)
				}
				if held {
					return conflict("user_email")
				}
			}
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlitestore: add e-mail address: %w", err)
		}
		if e.Primary {
			return setUserEmail(ctx, tx, e.UserID, e.Email)
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.ID = id
	return nil
}

// setUserEmail sets User.Email, in the transaction that changed the primary address.
func setUserEmail(ctx context.Context, tx *sql.Tx, userID int64, email string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET email = ? WHERE id = ?`, email, userID); err != nil {
		return fmt.Errorf("sqlitestore: set user e-mail: %w", err)
	}
	return nil
}

// VerifyEmailAddress implements restauth.Store.
func (s *Store) VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (*restauth.EmailAddress, error) {
	e := new(restauth.EmailAddress)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := scanEmail(tx.QueryRowContext(ctx, `UPDATE email_addresses SET verified = 1 WHERE id = ? RETURNING `+emailCols, id), e)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("email address", id)
		}
		if err != nil {
			return writeErr(err, "verify e-mail address", e.UserID)
		}
		if !makePrimaryIfNone || e.Primary {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 1 WHERE id = ?
	AND NOT EXISTS (SELECT 1 FROM email_addresses WHERE user_id = ? AND is_primary)`, id, e.UserID)
		if err != nil {
			return fmt.Errorf("sqlitestore: verify e-mail address: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlitestore: verify e-mail address: %w", err)
		} else if n == 0 {
			return nil
		}
		e.Primary = true
		return setUserEmail(ctx, tx, e.UserID, e.Email)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// SetPrimaryEmailAddress implements restauth.Store.
func (s *Store) SetPrimaryEmailAddress(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	e := new(restauth.EmailAddress)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := scanEmail(tx.QueryRowContext(ctx, `SELECT `+emailCols+` FROM email_addresses WHERE id = ?`, id), e)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("email address", id)
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: set primary e-mail address: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 0 WHERE user_id = ? AND is_primary AND id <> ?`, e.UserID, id); err != nil {
			return fmt.Errorf("sqlitestore: set primary e-mail address: %w", err)
		}
		if !e.Primary {
			if _, err := tx.ExecContext(ctx, `UPDATE email_addresses SET is_primary = 1 WHERE id = ?`, id); err != nil {
				return fmt.Errorf("sqlitestore: set primary e-mail address: %w", err)
			}
			e.Primary = true
		}
		return setUserEmail(ctx, tx, e.UserID, e.Email)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteEmailAddress implements restauth.Store.
func (s *Store) DeleteEmailAddress(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var userID int64
		var primary bool
		err := tx.QueryRowContext(ctx, `DELETE FROM email_addresses WHERE id = ? RETURNING user_id, is_primary`, id).Scan(&userID, &primary)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("email address", id)
		}
		if err != nil {
			return fmt.Errorf("sqlitestore: delete e-mail address: %w", err)
		}
		if primary {
			return setUserEmail(ctx, tx, userID, "")
		}
		return nil
	})
}

// tokenByHashSQL leaves out key_hash: the caller already has it.
const tokenByHashSQL = `SELECT id, user_id, key_prefix, key_suffix, name, created, expiry, last_seen, revoked FROM api_tokens WHERE key_hash = ?`

// tokenUserByHashSQL loads a token and its user in one query (restauth.TokenUserStore).
const tokenUserByHashSQL = `SELECT t.id, t.user_id, t.key_prefix, t.key_suffix, t.name, t.created, t.expiry, t.last_seen, t.revoked,
 u.id, u.username, u.email, u.first_name, u.last_name, u.password, u.is_active, u.is_staff, u.is_superuser, u.date_joined, u.last_login
 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.key_hash = ?`

// TokenAndUserByHash implements restauth.TokenUserStore: token authentication in one query.
func (s *Store) TokenAndUserByHash(ctx context.Context, hash [32]byte) (*restauth.APIToken, *restauth.User, error) {
	r := &struct {
		t                                    restauth.APIToken
		u                                    restauth.User
		created, expiry, seen, joined, login sql.NullInt64
	}{t: restauth.APIToken{KeyHash: hash}}
	t, u := &r.t, &r.u
	rows, err := s.tokenUserByHash.QueryContext(ctx, t.KeyHash[:])
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
	err = rows.Scan(&t.ID, &t.UserID, &t.KeyPrefix, &t.KeySuffix, &t.Name, &r.created, &r.expiry, &r.seen, &t.Revoked,
		&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash, &u.IsActive, &u.IsStaff, &u.IsSuperuser, &r.joined, &r.login)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("sqlitestore: token and user by hash: %w", err)
	}
	t.Created, t.Expiry, t.LastSeen = fromMicros(r.created), fromMicros(r.expiry), fromMicros(r.seen)
	u.DateJoined, u.LastLogin = fromMicros(r.joined), fromMicros(r.login)
	return t, u, nil
}

const tokenCols = `id, user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked`

// CreateToken implements restauth.Store. An unknown t.UserID matches restauth.ErrNotFound.
func (s *Store) CreateToken(ctx context.Context, t *restauth.APIToken) error {
	res, err := s.wdb.ExecContext(ctx, `INSERT INTO api_tokens (user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.UserID, t.KeyHash[:], t.KeyPrefix, t.KeySuffix, t.Name, micros(t.Created), micros(t.Expiry), micros(t.LastSeen), t.Revoked)
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
	rows, err := s.tokenByHash.QueryContext(ctx, t.KeyHash[:]) // t is on the heap already
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
		&created, &expiry, &seen, &t.Revoked); err != nil {
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
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE id = ?`, id)
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
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
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
	res, err := s.wdb.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE id = ?`, id)
	return affected(res, err, "token", id)
}

// TouchToken implements restauth.Store.
func (s *Store) TouchToken(ctx context.Context, id int64, day time.Time) error {
	res, err := s.wdb.ExecContext(ctx, `UPDATE api_tokens SET last_seen = ? WHERE id = ?`, micros(day), id)
	return affected(res, err, "token", id)
}

const socialCols = `id, user_id, provider, uid, last_login, date_joined, extra_data`

func scanSocial(sc scanner, a *restauth.SocialAccount) error {
	var login, joined sql.NullInt64
	if err := sc.Scan(&a.ID, &a.UserID, &a.Provider, &a.UID, &login, &joined, &a.ExtraData); err != nil {
		return err
	}
	a.LastLogin, a.DateJoined = fromMicros(login), fromMicros(joined)
	return nil
}

// blob stores an empty ExtraData as NULL.
func blob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateSocialAccount implements restauth.Store. A taken (provider, uid) is a
// *restauth.ConflictError with Field "social"; an unknown a.UserID matches
// restauth.ErrNotFound.
func (s *Store) CreateSocialAccount(ctx context.Context, a *restauth.SocialAccount) error {
	res, err := s.wdb.ExecContext(ctx, `INSERT INTO social_accounts (user_id, provider, uid, last_login, date_joined, extra_data)
	VALUES (?, ?, ?, ?, ?, ?)`,
		a.UserID, a.Provider, a.UID, micros(a.LastLogin), micros(a.DateJoined), blob(a.ExtraData))
	if err != nil {
		return writeErr(err, "create social account", a.UserID)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlitestore: create social account: %w", err)
	}
	a.ID = id
	return nil
}

// SocialAccountByUID implements restauth.Store.
func (s *Store) SocialAccountByUID(ctx context.Context, provider, uid string) (*restauth.SocialAccount, error) {
	a := new(restauth.SocialAccount)
	err := scanSocial(s.rdb.QueryRowContext(ctx, `SELECT `+socialCols+` FROM social_accounts WHERE provider = ? AND uid = ?`, provider, uid), a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("social account", provider+"/"+uid)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: social account %s/%s: %w", provider, uid, err)
	}
	return a, nil
}

// SocialAccounts implements restauth.Store.
func (s *Store) SocialAccounts(ctx context.Context, userID int64) ([]restauth.SocialAccount, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+socialCols+` FROM social_accounts WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: social accounts: %w", err)
	}
	defer rows.Close()
	out := []restauth.SocialAccount{}
	for rows.Next() {
		var a restauth.SocialAccount
		if err := scanSocial(rows, &a); err != nil {
			return nil, fmt.Errorf("sqlitestore: social accounts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: social accounts: %w", err)
	}
	return out, nil
}

// UpdateSocialAccountLogin implements restauth.Store.
func (s *Store) UpdateSocialAccountLogin(ctx context.Context, id int64, at time.Time, extra []byte) error {
	res, err := s.wdb.ExecContext(ctx, `UPDATE social_accounts SET last_login = ?, extra_data = ? WHERE id = ?`, micros(at), blob(extra), id)
	return affected(res, err, "social account", id)
}

// DeleteSocialAccount implements restauth.Store.
func (s *Store) DeleteSocialAccount(ctx context.Context, id int64) error {
	res, err := s.wdb.ExecContext(ctx, `DELETE FROM social_accounts WHERE id = ?`, id)
	return affected(res, err, "social account", id)
}
