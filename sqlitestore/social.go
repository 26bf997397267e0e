package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/restauth/restauth"
)

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
	res, err := s.w().ExecContext(ctx, `INSERT INTO social_accounts (user_id, provider, uid, last_login, date_joined, extra_data)
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
	err := scanSocial(s.r().QueryRowContext(ctx, `SELECT `+socialCols+` FROM social_accounts WHERE provider = ? AND uid = ?`, provider, uid), a)
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
	rows, err := s.r().QueryContext(ctx, `SELECT `+socialCols+` FROM social_accounts WHERE user_id = ? ORDER BY id`, userID)
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
	res, err := s.w().ExecContext(ctx, `UPDATE social_accounts SET last_login = ?, extra_data = ? WHERE id = ?`, micros(at), blob(extra), id)
	return affected(res, err, "social account", id)
}

// DeleteSocialAccount implements restauth.Store.
func (s *Store) DeleteSocialAccount(ctx context.Context, id int64) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM social_accounts WHERE id = ?`, id)
	return affected(res, err, "social account", id)
}
