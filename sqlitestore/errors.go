package sqlitestore

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/restauth/restauth"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func notFound(kind string, id any) error {
	return fmt.Errorf("sqlitestore: %s %v: %w", kind, id, restauth.ErrNotFound)
}

func conflict(field string) error { return &restauth.ConflictError{Field: field} }

// uniqueFields maps what SQLite names in a "UNIQUE constraint failed" message (an
// expression index by its name, other indexes by their columns) to ConflictError.Field.
var uniqueFields = []struct{ needle, field string }{
	{"users_username_key", "username"},
	{"email_addresses_user_email_key", "user_email"},
	{"email_addresses_verified_key", "email"},
	{"api_tokens.key_hash", "token"},
	{"social_accounts.provider, social_accounts.uid", "social"},
	{"totp_devices.user_id", "totp"},
	{"webauthn_credentials.credential_id", "webauthn"},
}

// constraintKind classifies a SQLite error as a uniqueness or a foreign-key violation.
// field is the ConflictError.Field of a unique index of the schema ("" for another one).
func constraintKind(err error) (unique, foreignKey bool, field string) {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false, false, ""
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		msg := se.Error()
		for _, u := range uniqueFields {
			if strings.Contains(msg, u.needle) {
				return true, false, u.field
			}
		}
		return true, false, ""
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return false, true, ""
	}
	return false, false, ""
}

// writeErr turns the error of a write into the store's errors: a violation of a unique
// index into a *restauth.ConflictError, a foreign-key violation (a missing user) into an
// error matching restauth.ErrNotFound, and anything else into a wrapped error.
func writeErr(err error, what string, userID int64) error {
	unique, fk, field := constraintKind(err)
	switch {
	case unique && field != "":
		return conflict(field)
	case fk:
		return notFound("user", userID)
	}
	return fmt.Errorf("sqlitestore: %s: %w", what, err)
}

// micros is how a time is stored: unix microseconds, or NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros reverses micros, in UTC.
func fromMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMicro(n.Int64).UTC()
}
