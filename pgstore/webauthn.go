package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/restauth/restauth"
)

const webAuthnCols = "id, user_id, credential_id, user_handle, public_key, sign_count, transports, flags, aaguid, attestation_type, passkey, name, created, last_used"

// webAuthnQueries are the statements of the WebAuthnStore role.
type webAuthnQueries struct {
	create, ofUser, byCredentialID, use, rename, delete string
}

func newWebAuthnQueries(q func(string) string) webAuthnQueries {
	return webAuthnQueries{
		create: q(`INSERT INTO {s}.webauthn_credentials (user_id, credential_id, user_handle, public_key, sign_count, transports, flags,
	aaguid, attestation_type, passkey, name, created, last_used)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`),
		ofUser:         q(`SELECT ` + webAuthnCols + ` FROM {s}.webauthn_credentials WHERE user_id = $1 ORDER BY id`),
		byCredentialID: q(`SELECT ` + webAuthnCols + ` FROM {s}.webauthn_credentials WHERE credential_id = $1`),
		// A concurrent UPDATE of the row makes this one wait and re-check the WHERE on the
		// new row, so the counter never goes back. The second column tells a refused use
		// from a missing credential.
		use: q(`WITH u AS (
	UPDATE {s}.webauthn_credentials SET sign_count = $2, flags = $3, last_used = $4
	WHERE id = $1 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))
	RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM {s}.webauthn_credentials WHERE id = $1)`),
		rename: q(`UPDATE {s}.webauthn_credentials SET name = $2 WHERE id = $1`),
		delete: q(`DELETE FROM {s}.webauthn_credentials WHERE id = $1`),
	}
}

func scanWebAuthn(row pgx.Row) (restauth.WebAuthnCredential, error) {
	var (
		c             restauth.WebAuthnCredential
		signCount     int64
		flags         int16
		created, used pgtype.Timestamptz
	)
	if err := row.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.UserHandle, &c.PublicKey, &signCount, &c.Transports, &flags, &c.AAGUID,
		&c.AttestationType, &c.Passkey, &c.Name, &created, &used); err != nil {
		return c, err
	}
	c.SignCount, c.Flags = uint32(signCount), uint8(flags)
	c.Created, c.LastUsed = fromTS(created), fromTS(used)
	return c, nil
}

// nonEmpty is a slice as a parameter: NULL when empty.
func nonEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// CreateWebAuthnCredential implements restauth.Store.
func (s *Store) CreateWebAuthnCredential(ctx context.Context, c *restauth.WebAuthnCredential) error {
	var id int64
	err := s.writer().QueryRow(ctx, s.q.webauthn.create, c.UserID, c.CredentialID, nonEmpty(c.UserHandle), c.PublicKey, int64(c.SignCount),
		nonEmpty(c.Transports), int16(c.Flags), nonEmpty(c.AAGUID), c.AttestationType, c.Passkey, c.Name,
		ts(c.Created), ts(c.LastUsed)).Scan(&id)
	if err != nil {
		return storeErr(err, "WebAuthn credential of user", c.UserID)
	}
	c.ID = id
	return nil
}

// WebAuthnCredentials implements restauth.Store.
func (s *Store) WebAuthnCredentials(ctx context.Context, userID int64) ([]restauth.WebAuthnCredential, error) {
	rows, err := s.reader().Query(ctx, s.q.webauthn.ofUser, userID)
	if err != nil {
		return nil, storeErr(err, "WebAuthn credentials of user", userID)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (restauth.WebAuthnCredential, error) { return scanWebAuthn(r) })
	if err != nil {
		return nil, storeErr(err, "WebAuthn credentials of user", userID)
	}
	if cs == nil {
		cs = []restauth.WebAuthnCredential{}
	}
	return cs, nil
}

// WebAuthnCredentialByCredentialID implements restauth.Store.
func (s *Store) WebAuthnCredentialByCredentialID(ctx context.Context, credentialID []byte) (*restauth.WebAuthnCredential, error) {
	c, err := scanWebAuthn(s.reader().QueryRow(ctx, s.q.webauthn.byCredentialID, credentialID))
	if err != nil {
		return nil, storeErr(err, "WebAuthn credential", "by credential id")
	}
	return &c, nil
}

// UseWebAuthnCredential implements restauth.Store with one conditional UPDATE.
func (s *Store) UseWebAuthnCredential(ctx context.Context, id int64, signCount uint32, flags uint8, at time.Time) (bool, error) {
	var used, exists bool
	if err := s.writer().QueryRow(ctx, s.q.webauthn.use, id, int64(signCount), int16(flags), ts(at)).Scan(&used, &exists); err != nil {
		return false, storeErr(err, "WebAuthn credential", id)
	}
	if !exists {
		return false, notFound("WebAuthn credential", id)
	}
	return used, nil
}

// RenameWebAuthnCredential implements restauth.Store.
func (s *Store) RenameWebAuthnCredential(ctx context.Context, id int64, name string) error {
	return s.execOne(ctx, "WebAuthn credential", id, s.q.webauthn.rename, id, name)
}

// DeleteWebAuthnCredential implements restauth.Store.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, id int64) error {
	return s.execOne(ctx, "WebAuthn credential", id, s.q.webauthn.delete, id)
}
