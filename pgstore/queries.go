package pgstore

import "strings"

// queries holds every statement of the store with its table names qualified by the
// store's schema, built once by New so that pgx's statement cache sees the same text on
// every call.
type queries struct {
	createUser, createUserWithEmail, userByID, userByUsername, usersByEmail string
	updateUser, deleteUser, setUserEmail, lockUserOfEmail                   string

	emailsOfUser, emailByID, addEmail, clearPrimary, verifyEmail string
	verifyEmailMakePrimary, makePrimary, deleteEmail             string

	createToken, tokenByHash, tokenUserByHash, tokenByID, tokensOfUser, revokeToken, touchToken string

	createSocial, socialByUID, socialOfUser, updateSocialLogin, deleteSocial string

	lockUser, totpDevice, createTOTP, useTOTPStep, deleteMFA             string
	recoveryCodes, deleteRecoveryCodes, insertRecoveryCodes, useRecovery string

	createRefresh, replaceRefresh, deleteRefresh string

	sessionFind, sessionCommit, sessionDelete, sessionAll, sessionCleanup string

	webauthn     webAuthnQueries
	outbox       outboxQueries
	userSessions userSessionQueries
}

const (
	userCols   = "id, username, email, first_name, last_name, password, is_active, is_staff, is_superuser, date_joined, last_login"
	emailCols  = "id, user_id, email, verified, is_primary"
	tokenCols  = "id, user_id, key_hash, key_prefix, key_suffix, name, created, expiry, last_seen, revoked, sealed_key"
	socialCols = "id, user_id, provider, uid, last_login, date_joined, extra_data"
)

// newQueries returns the statements with "{s}." replaced by prefix: a quoted schema name
// and a dot, or nothing.
func newQueries(prefix string) queries {
	r := strings.NewReplacer("{s}.", prefix)
	q := func(sql string) string { return r.Replace(sql) }
	return queries{
		userSessions: newUserSessionQueries(q),
		createUser: q(`INSERT INTO {s}.users (username, email, first_name, last_name, password,
	is_active, is_staff, is_superuser, date_joined, last_login)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`),
		// One statement is one atomic step: the address is stored with the user or neither.
		createUserWithEmail: q(`WITH u AS (
	INSERT INTO {s}.users (username, email, first_name, last_name, password,
		is_active, is_staff, is_superuser, date_joined, last_login)
	VALUES ($1, CASE WHEN $13::boolean THEN $11::text ELSE $2 END, $3, $4, $5, $6, $7, $8, $9, $10)
	RETURNING id, email
), e AS (
	INSERT INTO {s}.email_addresses (user_id, email, verified, is_primary)
	SELECT id, $11::text, $12::boolean, $13::boolean FROM u
	RETURNING id
)
SELECT u.id, u.email, e.id FROM u, e`),
		userByID:       q(`SELECT ` + userCols + ` FROM {s}.users WHERE id = $1`),
		userByUsername: q(`SELECT ` + userCols + ` FROM {s}.users WHERE lower(username) = lower($1)`),
		usersByEmail: q(`SELECT ` + userCols + ` FROM {s}.users WHERE id IN (
	SELECT id FROM {s}.users WHERE lower(email) = lower($1)
	UNION ALL
	SELECT user_id FROM {s}.email_addresses WHERE lower(email) = lower($1)
) ORDER BY id`),
		// Each column is rewritten from its own current value unless given, so that
		// concurrent updates of different fields do not undo each other.
		updateUser: q(`UPDATE {s}.users SET
	username = coalesce($2, username),
	first_name = coalesce($3, first_name),
	last_name = coalesce($4, last_name),
	password = coalesce($5, password),
	last_login = CASE WHEN $6::boolean THEN $7::timestamptz ELSE last_login END,
	is_active = coalesce($8, is_active),
	is_staff = coalesce($9, is_staff),
	is_superuser = coalesce($10, is_superuser)
WHERE id = $1
RETURNING ` + userCols),
		deleteUser:   q(`DELETE FROM {s}.users WHERE id = $1`),
		setUserEmail: q(`UPDATE {s}.users SET email = $2 WHERE id = $1`),
		// The user's row lock serializes the transactions that change a user's addresses;
		// NO KEY UPDATE leaves foreign-key checks of concurrent inserts (tokens, …) free.
		lockUserOfEmail: q(`SELECT id FROM {s}.users
WHERE id = (SELECT user_id FROM {s}.email_addresses WHERE id = $1)
FOR NO KEY UPDATE`),

		emailsOfUser: q(`SELECT ` + emailCols + ` FROM {s}.email_addresses WHERE user_id = $1 ORDER BY id`),
		emailByID:    q(`SELECT ` + emailCols + ` FROM {s}.email_addresses WHERE id = $1`),
		addEmail: q(`INSERT INTO {s}.email_addresses (user_id, email, verified, is_primary)
VALUES ($1, $2, $3, $4) RETURNING id`),
		clearPrimary: q(`UPDATE {s}.email_addresses SET is_primary = false
WHERE user_id = $1 AND is_primary AND id <> $2`),
		verifyEmail: q(`UPDATE {s}.email_addresses SET verified = true WHERE id = $1 RETURNING ` + emailCols),
		// Run under the user's lock, so that "has no primary" stays true until commit.
		verifyEmailMakePrimary: q(`UPDATE {s}.email_addresses SET verified = true,
	is_primary = is_primary OR NOT EXISTS (
		SELECT 1 FROM {s}.email_addresses o WHERE o.user_id = $2 AND o.is_primary)
WHERE id = $1 AND user_id = $2
RETURNING ` + emailCols),
		makePrimary: q(`UPDATE {s}.email_addresses SET is_primary = true WHERE id = $1 RETURNING ` + emailCols),
		deleteEmail: q(`DELETE FROM {s}.email_addresses WHERE id = $1 RETURNING is_primary`),

		createToken: q(`INSERT INTO {s}.api_tokens (user_id, key_hash, key_prefix, key_suffix, name,
	created, expiry, last_seen, revoked, sealed_key)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`),
		// The caller has the hash already: it is not read back.
		tokenByHash: q(`SELECT id, user_id, key_prefix, key_suffix, name, created, expiry, last_seen, revoked
FROM {s}.api_tokens WHERE key_hash = $1`),
		// Token authentication in one round trip (TokenAndUserByHash); the user's id is the
		// token's user_id.
		tokenUserByHash: q(`SELECT t.id, t.user_id, t.key_prefix, t.key_suffix, t.name, t.created, t.expiry, t.last_seen, t.revoked,
	u.username, u.email, u.first_name, u.last_name, u.password, u.is_active, u.is_staff, u.is_superuser, u.date_joined, u.last_login
FROM {s}.api_tokens t JOIN {s}.users u ON u.id = t.user_id WHERE t.key_hash = $1`),
		tokenByID:    q(`SELECT ` + tokenCols + ` FROM {s}.api_tokens WHERE id = $1`),
		tokensOfUser: q(`SELECT ` + tokenCols + ` FROM {s}.api_tokens WHERE user_id = $1 ORDER BY id`),
		revokeToken:  q(`UPDATE {s}.api_tokens SET revoked = true WHERE id = $1`),
		touchToken:   q(`UPDATE {s}.api_tokens SET last_seen = $2 WHERE id = $1`),

		createSocial: q(`INSERT INTO {s}.social_accounts (user_id, provider, uid, last_login, date_joined, extra_data)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`),
		socialByUID:       q(`SELECT ` + socialCols + ` FROM {s}.social_accounts WHERE provider = $1 AND uid = $2`),
		socialOfUser:      q(`SELECT ` + socialCols + ` FROM {s}.social_accounts WHERE user_id = $1 ORDER BY id`),
		updateSocialLogin: q(`UPDATE {s}.social_accounts SET last_login = $2, extra_data = $3 WHERE id = $1`),
		deleteSocial:      q(`DELETE FROM {s}.social_accounts WHERE id = $1`),

		// Like lockUserOfEmail: serializes the transactions that replace or delete a user's
		// recovery codes.
		// Expired tokens of the user go with each new one, so the table holds live ones.
		createRefresh: q(`WITH d AS (DELETE FROM {s}.refresh_tokens WHERE user_id = $1 AND expires < $4)
INSERT INTO {s}.refresh_tokens (user_id, hash, family, created, expires) VALUES ($1, $2, $3, $4, $5) RETURNING id`),
		// One statement: the INSERT happens only when the DELETE found the old row, and of
		// two exchanges of one token the second's DELETE waits for the first's row lock and
		// then finds nothing (READ COMMITTED re-checks the deleted row).
		replaceRefresh: q(`WITH d AS (DELETE FROM {s}.refresh_tokens WHERE user_id = $1 AND hash = $6 RETURNING id)
INSERT INTO {s}.refresh_tokens (user_id, hash, family, created, expires) SELECT $1, $2, $3, $4, $5 FROM d RETURNING id`),
		deleteRefresh: q(`DELETE FROM {s}.refresh_tokens WHERE user_id = $1 AND ($2 = '' OR family = $2)`),
		lockUser:      q(`SELECT id FROM {s}.users WHERE id = $1 FOR NO KEY UPDATE`),
		totpDevice:    q(`SELECT sealed_secret, confirmed, created, last_step FROM {s}.totp_devices WHERE user_id = $1`),
		// Replaces a pending device; a confirmed one fails the DO UPDATE's WHERE and no row
		// changes (re-checked on the row a concurrent transaction has just changed).
		createTOTP: q(`INSERT INTO {s}.totp_devices (user_id, sealed_secret, confirmed, created, last_step)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, confirmed = excluded.confirmed,
	created = excluded.created, last_step = excluded.last_step
WHERE totp_devices.confirmed = false`),
		// A concurrent UPDATE of the row makes this one wait and then re-check the whole
		// WHERE (last_step < $3, the same sealed secret, pending if confirming) on the new
		// row, so a step is accepted once and a device confirmed once. The second column,
		// read from the statement's snapshot, tells a refused step from a missing device.
		useTOTPStep: q(`WITH u AS (
	UPDATE {s}.totp_devices SET last_step = $3, confirmed = confirmed OR $4::boolean
	WHERE user_id = $1 AND sealed_secret = $2 AND last_step < $3 AND NOT ($4::boolean AND confirmed)
	RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM {s}.totp_devices WHERE user_id = $1)`),
		deleteMFA: q(`WITH d AS (DELETE FROM {s}.totp_devices WHERE user_id = $1)
DELETE FROM {s}.recovery_codes WHERE user_id = $1`),
		recoveryCodes:       q(`SELECT id, hash, used FROM {s}.recovery_codes WHERE user_id = $1 ORDER BY id`),
		deleteRecoveryCodes: q(`DELETE FROM {s}.recovery_codes WHERE user_id = $1`),
		// IDs follow the order of the array.
		insertRecoveryCodes: q(`INSERT INTO {s}.recovery_codes (user_id, hash)
SELECT $1::bigint, h FROM unnest($2::bytea[]) WITH ORDINALITY AS c (h, n) ORDER BY n`),
		// The outer "used IS NULL" is re-checked on the row a concurrent use just changed
		// (the subquery is not), so that only one of them marks it.
		useRecovery: q(`UPDATE {s}.recovery_codes SET used = $3
WHERE id = (SELECT id FROM {s}.recovery_codes WHERE user_id = $1 AND hash = $2 AND used IS NULL ORDER BY id LIMIT 1)
	AND used IS NULL`),

		sessionFind: q(`SELECT data FROM {s}.sessions WHERE token = $1 AND current_timestamp < expiry`),
		sessionCommit: q(`INSERT INTO {s}.sessions (token, data, expiry) VALUES ($1, $2, $3)
ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`),
		sessionDelete:  q(`DELETE FROM {s}.sessions WHERE token = $1`),
		sessionAll:     q(`SELECT token, data FROM {s}.sessions WHERE current_timestamp < expiry`),
		sessionCleanup: q(`DELETE FROM {s}.sessions WHERE expiry <= current_timestamp`),

		webauthn: newWebAuthnQueries(q),
		outbox:   newOutboxQueries(q),
	}
}
