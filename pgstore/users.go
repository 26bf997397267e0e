package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

// ts is t as a timestamptz parameter: NULL for the zero time.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// fromTS is a scanned timestamptz in UTC: the zero time for NULL.
func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// date is the UTC day of t as a date parameter: NULL for the zero time.
func date(t time.Time) pgtype.Date {
	if t.IsZero() {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: t.UTC(), Valid: true}
}

// fromDate is a scanned date as UTC midnight: the zero time for NULL.
func fromDate(v pgtype.Date) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	y, m, d := v.Time.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// scanUser reads the userCols of one row.
func scanUser(row pgx.Row) (*restauth.User, error) {
	u := new(restauth.User)
	var joined, login pgtype.Timestamptz
	if err := row.Scan(&u.ID, &u.Username, &u.Email, &u.FirstName, &u.LastName, &u.PasswordHash,
		&u.IsActive, &u.IsStaff, &u.IsSuperuser, &joined, &login); err != nil {
		return nil, err
	}
	u.DateJoined, u.LastLogin = fromTS(joined), fromTS(login)
	return u, nil
}

// CreateUser implements restauth.Store. The user and the address are stored by one
// statement, so both or neither are; the IDs (and, for a primary address, u.Email) are
// written back only when they were.
func (s *Store) CreateUser(ctx context.Context, u *restauth.User, email *restauth.EmailAddress) error {
	args := []any{u.Username, u.Email, u.FirstName, u.LastName, u.PasswordHash,
		u.IsActive, u.IsStaff, u.IsSuperuser, ts(u.DateJoined), ts(u.LastLogin)}
	if email == nil {
		var id int64
		if err := s.writer().QueryRow(ctx, s.q.createUser, args...).Scan(&id); err != nil {
			return storeErr(err, "user", "new")
		}
		u.ID = id
		return nil
	}
	args = append(args, email.Email, email.Verified, email.Primary)
	var (
		userID, emailID int64
		userEmail       string
	)
	if err := s.writer().QueryRow(ctx, s.q.createUserWithEmail, args...).Scan(&userID, &userEmail, &emailID); err != nil {
		return storeErr(err, "user", "new")
	}
	u.ID, u.Email = userID, userEmail
	email.ID, email.UserID = emailID, userID
	return nil
}

// UserByID implements restauth.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*restauth.User, error) {
	u, err := scanUser(s.reader().QueryRow(ctx, s.q.userByID, id))
	if err != nil {
		return nil, storeErr(err, "user", id)
	}
	return u, nil
}

// UserByUsername implements restauth.Store.
func (s *Store) UserByUsername(ctx context.Context, username string) (*restauth.User, error) {
	u, err := scanUser(s.reader().QueryRow(ctx, s.q.userByUsername, username))
	if err != nil {
		return nil, storeErr(err, "user", "by username")
	}
	return u, nil
}

// UsersByEmail implements restauth.Store.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]*restauth.User, error) {
	if email == "" {
		return []*restauth.User{}, nil
	}
	rows, err := s.reader().Query(ctx, s.q.usersByEmail, email)
	if err != nil {
		return nil, storeErr(err, "users", "by e-mail")
	}
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*restauth.User, error) { return scanUser(r) })
	if err != nil {
		return nil, storeErr(err, "users", "by e-mail")
	}
	if us == nil {
		us = []*restauth.User{}
	}
	return us, nil
}

// UpdateUser implements restauth.Store. It is one UPDATE statement that sets each column
// from the value given or from itself, so concurrent updates of different fields all stick.
func (s *Store) UpdateUser(ctx context.Context, id int64, upd restauth.UserUpdate) (*restauth.User, error) {
	var login pgtype.Timestamptz
	if upd.LastLogin != nil {
		login = ts(*upd.LastLogin)
	}
	u, err := scanUser(s.writer().QueryRow(ctx, s.q.updateUser, id,
		upd.Username, upd.FirstName, upd.LastName, upd.PasswordHash,
		upd.LastLogin != nil, login,
		upd.IsActive, upd.IsStaff, upd.IsSuperuser))
	if err != nil {
		return nil, storeErr(err, "user", id)
	}
	return u, nil
}

// DeleteUser implements restauth.Store. The addresses, tokens, social accounts, TOTP device,
// recovery codes and WebAuthn credentials go with the user by ON DELETE CASCADE.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	tag, err := s.writer().Exec(ctx, s.q.deleteUser, id)
	if err != nil {
		return storeErr(err, "user", id)
	}
	if tag.RowsAffected() == 0 {
		return notFound("user", id)
	}
	return nil
}
