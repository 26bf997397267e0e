package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/restauth/restauth"
)

func scanEmail(row pgx.Row) (restauth.EmailAddress, error) {
	var e restauth.EmailAddress
	err := row.Scan(&e.ID, &e.UserID, &e.Email, &e.Verified, &e.Primary)
	return e, err
}

// EmailAddresses implements restauth.Store.
func (s *Store) EmailAddresses(ctx context.Context, userID int64) ([]restauth.EmailAddress, error) {
	rows, err := s.reader().Query(ctx, s.q.emailsOfUser, userID)
	if err != nil {
		return nil, storeErr(err, "e-mail addresses of user", userID)
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (restauth.EmailAddress, error) { return scanEmail(r) })
	if err != nil {
		return nil, storeErr(err, "e-mail addresses of user", userID)
	}
	if es == nil {
		es = []restauth.EmailAddress{}
	}
	return es, nil
}

// EmailAddressByID implements restauth.Store.
func (s *Store) EmailAddressByID(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	e, err := scanEmail(s.reader().QueryRow(ctx, s.q.emailByID, id))
	if err != nil {
		return nil, storeErr(err, "e-mail address", id)
	}
	return &e, nil
}

// AddEmailAddress implements restauth.Store. A primary address is added in a transaction
// that holds the user's lock, clears the other primary and sets users.email.
func (s *Store) AddEmailAddress(ctx context.Context, e *restauth.EmailAddress) error {
	var id int64
	if !e.Primary {
		err := s.writer().QueryRow(ctx, s.q.addEmail, e.UserID, e.Email, e.Verified, false).Scan(&id)
		if err != nil {
			return storeErr(err, "e-mail address of user", e.UserID)
		}
		e.ID = id
		return nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Setting users.email first takes the user's lock.
		tag, err := tx.Exec(ctx, s.q.setUserEmail, e.UserID, e.Email)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("user", e.UserID)
		}
		if _, err := tx.Exec(ctx, s.q.clearPrimary, e.UserID, 0); err != nil {
			return err
		}
		return tx.QueryRow(ctx, s.q.addEmail, e.UserID, e.Email, e.Verified, true).Scan(&id)
	})
	if err != nil {
		return storeErr(err, "e-mail address of user", e.UserID)
	}
	e.ID = id
	return nil
}

// VerifyEmailAddress implements restauth.Store. With makePrimaryIfNone, it runs in a
// transaction that holds the user's lock, so that two addresses verified at once cannot
// both become primary.
func (s *Store) VerifyEmailAddress(ctx context.Context, id int64, makePrimaryIfNone bool) (*restauth.EmailAddress, error) {
	if !makePrimaryIfNone {
		e, err := scanEmail(s.writer().QueryRow(ctx, s.q.verifyEmail, id))
		if err != nil {
			return nil, storeErr(err, "e-mail address", id)
		}
		return &e, nil
	}
	var e restauth.EmailAddress
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var userID int64
		if err := tx.QueryRow(ctx, s.q.lockUserOfEmail, id).Scan(&userID); err != nil {
			return err
		}
		var err error
		if e, err = scanEmail(tx.QueryRow(ctx, s.q.verifyEmailMakePrimary, id, userID)); err != nil {
			return err
		}
		if e.Primary {
			_, err = tx.Exec(ctx, s.q.setUserEmail, userID, e.Email)
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err, "e-mail address", id)
	}
	return &e, nil
}

// SetPrimaryEmailAddress implements restauth.Store, in a transaction that holds the user's
// lock.
func (s *Store) SetPrimaryEmailAddress(ctx context.Context, id int64) (*restauth.EmailAddress, error) {
	var e restauth.EmailAddress
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var userID int64
		if err := tx.QueryRow(ctx, s.q.lockUserOfEmail, id).Scan(&userID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.q.clearPrimary, userID, id); err != nil {
			return err
		}
		var err error
		if e, err = scanEmail(tx.QueryRow(ctx, s.q.makePrimary, id)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, s.q.setUserEmail, userID, e.Email)
		return err
	})
	if err != nil {
		return nil, storeErr(err, "e-mail address", id)
	}
	return &e, nil
}

// DeleteEmailAddress implements restauth.Store, in a transaction that holds the user's
// lock and clears users.email when the address was the primary one.
func (s *Store) DeleteEmailAddress(ctx context.Context, id int64) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var userID int64
		if err := tx.QueryRow(ctx, s.q.lockUserOfEmail, id).Scan(&userID); err != nil {
			return err
		}
		var primary bool
		if err := tx.QueryRow(ctx, s.q.deleteEmail, id).Scan(&primary); err != nil {
			return err
		}
		if primary {
			_, err := tx.Exec(ctx, s.q.setUserEmail, userID, "")
			return err
		}
		return nil
	})
	return storeErr(err, "e-mail address", id)
}
