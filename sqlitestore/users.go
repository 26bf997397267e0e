package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
	u, err := scanUser(s.stmtQueryRow(ctx, s.userByID, userByIDSQL, id))
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
	u, err := scanUser(s.r().QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE lower(username) = lower(?)`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", "by username")
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
	rows, err := s.r().QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE id IN (
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
	u, err := scanUser(s.w().QueryRowContext(ctx, q.String(), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user", id)
	}
	if err != nil {
		return nil, writeErr(err, "update user", id)
	}
	return u, nil
}

// DeleteUser implements restauth.Store. The schema's ON DELETE CASCADE removes the user's
// addresses, tokens, social accounts, TOTP device, recovery codes and WebAuthn credentials
// in the same statement.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	return affected(res, err, "user", id)
}

// affected turns the result of an UPDATE or DELETE of one row by id into nil, an error
// matching restauth.ErrNotFound when no row had that id, or a wrapped error.
// conditionalUpdate runs update, an UPDATE whose WHERE holds a condition besides the row's
// key, and reports whether it changed the row; when it changed none, exists (a query for
// the row by its key alone, on the writer, so it sees the update's view) tells a refused
// condition (false, nil) from a missing row (notFound(kind, id)). The compare-and-set
// operations of the second factors (a TOTP step, a WebAuthn sign count) are such.
func (s *Store) conditionalUpdate(ctx context.Context, kind string, id int64, update string, args []any, exists string) (bool, error) {
	res, err := s.w().ExecContext(ctx, update, args...)
	if err != nil {
		return false, fmt.Errorf("sqlitestore: %s %d: %w", kind, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlitestore: %s %d: %w", kind, id, err)
	}
	if n > 0 {
		return true, nil
	}
	var found bool
	if err := s.w().QueryRowContext(ctx, `SELECT EXISTS (`+exists+`)`, id).Scan(&found); err != nil {
		return false, fmt.Errorf("sqlitestore: %s %d: %w", kind, id, err)
	}
	if !found {
		return false, notFound(kind, id)
	}
	return false, nil
}

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
