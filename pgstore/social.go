package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

// scanSocial reads the socialCols of one row.
func scanSocial(row pgx.Row) (restauth.SocialAccount, error) {
	var (
		a             restauth.SocialAccount
		login, joined pgtype.Timestamptz
	)
	if err := row.Scan(&a.ID, &a.UserID, &a.Provider, &a.UID, &login, &joined, &a.ExtraData); err != nil {
		return a, err
	}
	a.LastLogin, a.DateJoined = fromTS(login), fromTS(joined)
	return a, nil
}

// extra is ExtraData as a parameter: NULL when empty.
func extra(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateSocialAccount implements restauth.Store. An empty ExtraData is stored as NULL and
// read back as nil.
func (s *Store) CreateSocialAccount(ctx context.Context, a *restauth.SocialAccount) error {
	var id int64
	err := s.writer().QueryRow(ctx, s.q.createSocial, a.UserID, a.Provider, a.UID,
		ts(a.LastLogin), ts(a.DateJoined), extra(a.ExtraData)).Scan(&id)
	if err != nil {
		return storeErr(err, "social account", a.Provider+"/"+a.UID)
	}
	a.ID = id
	return nil
}

// SocialAccountByUID implements restauth.Store.
func (s *Store) SocialAccountByUID(ctx context.Context, provider, uid string) (*restauth.SocialAccount, error) {
	a, err := scanSocial(s.reader().QueryRow(ctx, s.q.socialByUID, provider, uid))
	if err != nil {
		return nil, storeErr(err, "social account", provider+"/"+uid)
	}
	return &a, nil
}

// SocialAccounts implements restauth.Store.
func (s *Store) SocialAccounts(ctx context.Context, userID int64) ([]restauth.SocialAccount, error) {
	rows, err := s.reader().Query(ctx, s.q.socialOfUser, userID)
	if err != nil {
		return nil, storeErr(err, "social accounts of user", userID)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (restauth.SocialAccount, error) { return scanSocial(r) })
	if err != nil {
		return nil, storeErr(err, "social accounts of user", userID)
	}
	if as == nil {
		as = []restauth.SocialAccount{}
	}
	return as, nil
}

// UpdateSocialAccountLogin implements restauth.Store.
func (s *Store) UpdateSocialAccountLogin(ctx context.Context, id int64, at time.Time, extraData []byte) error {
	return s.execOne(ctx, "social account", id, s.q.updateSocialLogin, id, ts(at), extra(extraData))
}

// DeleteSocialAccount implements restauth.Store.
func (s *Store) DeleteSocialAccount(ctx context.Context, id int64) error {
	return s.execOne(ctx, "social account", id, s.q.deleteSocial, id)
}
