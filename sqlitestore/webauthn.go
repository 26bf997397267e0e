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

const webAuthnCols = `id, user_id, credential_id, user_handle, public_key, sign_count, transports, flags, aaguid, attestation_type, passkey, name, created, last_used`

func scanWebAuthn(sc scanner, c *restauth.WebAuthnCredential) error {
	var transports sql.NullString
	var created, used sql.NullInt64
	if err := sc.Scan(&c.ID, &c.UserID, &c.CredentialID, &c.UserHandle, &c.PublicKey, &c.SignCount, &transports, &c.Flags, &c.AAGUID,
		&c.AttestationType, &c.Passkey, &c.Name, &created, &used); err != nil {
		return err
	}
	if transports.String != "" {
		c.Transports = strings.Split(transports.String, ",")
	}
	c.Created, c.LastUsed = fromMicros(created), fromMicros(used)
	return nil
}

// joinTransports stores no transports as NULL.
func joinTransports(ts []string) any {
	if len(ts) == 0 {
		return nil
	}
	return strings.Join(ts, ",")
}

// CreateWebAuthnCredential implements restauth.Store. A credential id any user holds is a
// *restauth.ConflictError with Field "webauthn"; an unknown c.UserID matches
// restauth.ErrNotFound.
func (s *Store) CreateWebAuthnCredential(ctx context.Context, c *restauth.WebAuthnCredential) error {
	res, err := s.w().ExecContext(ctx, `INSERT INTO webauthn_credentials (user_id, credential_id, user_handle, public_key, sign_count, transports, flags, aaguid, attestation_type, passkey, name, created, last_used)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.UserID, secret(c.CredentialID), blob(c.UserHandle), secret(c.PublicKey), c.SignCount, joinTransports(c.Transports), c.Flags, blob(c.AAGUID),
		c.AttestationType, c.Passkey, c.Name, micros(c.Created), micros(c.LastUsed))
	if err != nil {
		return writeErr(err, "create WebAuthn credential", c.UserID)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlitestore: create WebAuthn credential: %w", err)
	}
	c.ID = id
	return nil
}

// WebAuthnCredentials implements restauth.Store.
func (s *Store) WebAuthnCredentials(ctx context.Context, userID int64) ([]restauth.WebAuthnCredential, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+webAuthnCols+` FROM webauthn_credentials WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: WebAuthn credentials: %w", err)
	}
	defer rows.Close()
	out := []restauth.WebAuthnCredential{}
	for rows.Next() {
		var c restauth.WebAuthnCredential
		if err := scanWebAuthn(rows, &c); err != nil {
			return nil, fmt.Errorf("sqlitestore: WebAuthn credentials: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: WebAuthn credentials: %w", err)
	}
	return out, nil
}

// WebAuthnCredentialByCredentialID implements restauth.Store.
func (s *Store) WebAuthnCredentialByCredentialID(ctx context.Context, credentialID []byte) (*restauth.WebAuthnCredential, error) {
	c := new(restauth.WebAuthnCredential)
	err := scanWebAuthn(s.r().QueryRowContext(ctx, `SELECT `+webAuthnCols+` FROM webauthn_credentials WHERE credential_id = ?`, secret(credentialID)), c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("WebAuthn credential", "by credential id")
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: WebAuthn credential: %w", err)
	}
	return c, nil
}

// UseWebAuthnCredential implements restauth.Store with one conditional UPDATE, so that
// concurrent uses never move the counter back.
func (s *Store) UseWebAuthnCredential(ctx context.Context, id int64, signCount uint32, flags uint8, at time.Time) (bool, error) {
	return s.conditionalUpdate(ctx, "WebAuthn credential", id,
		`UPDATE webauthn_credentials SET sign_count = ?, flags = ?, last_used = ?
WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		[]any{signCount, flags, micros(at), id, signCount, signCount},
		`SELECT 1 FROM webauthn_credentials WHERE id = ?`)
}

// RenameWebAuthnCredential implements restauth.Store.
func (s *Store) RenameWebAuthnCredential(ctx context.Context, id int64, name string) error {
	res, err := s.w().ExecContext(ctx, `UPDATE webauthn_credentials SET name = ? WHERE id = ?`, name, id)
	return affected(res, err, "WebAuthn credential", id)
}

// DeleteWebAuthnCredential implements restauth.Store.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, id int64) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE id = ?`, id)
	return affected(res, err, "WebAuthn credential", id)
}
