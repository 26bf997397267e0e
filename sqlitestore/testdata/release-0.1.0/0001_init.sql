-- 0001: users, e-mail addresses, API tokens, social accounts and scs sessions.
--
-- Times are INTEGER unix microseconds in UTC; NULL stands for the zero time ("never").
-- Case-insensitive rules use SQLite's built-in lower(), which folds ASCII letters only.
-- AUTOINCREMENT keeps IDs from ever being reused after a delete.

CREATE TABLE users (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	username     TEXT    NOT NULL,
	email        TEXT    NOT NULL DEFAULT '',
	first_name   TEXT    NOT NULL DEFAULT '',
	last_name    TEXT    NOT NULL DEFAULT '',
	password     TEXT    NOT NULL DEFAULT '',
	is_active    INTEGER NOT NULL DEFAULT 0,
	is_staff     INTEGER NOT NULL DEFAULT 0,
	is_superuser INTEGER NOT NULL DEFAULT 0,
	date_joined  INTEGER,
	last_login   INTEGER
) STRICT;

-- Usernames are unique case-insensitively (ASCII folding).
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
-- UsersByEmail also finds users by User.Email.
CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE email_addresses (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	email      TEXT    NOT NULL,
	verified   INTEGER NOT NULL DEFAULT 0,
	is_primary INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A user holds an address at most once; this index also serves lookups by user.
CREATE UNIQUE INDEX email_addresses_user_email_key ON email_addresses (user_id, lower(email));
-- A verified address has at most one owner.
CREATE UNIQUE INDEX email_addresses_verified_key ON email_addresses (lower(email)) WHERE verified;
-- A user has at most one primary address.
CREATE UNIQUE INDEX email_addresses_primary_key ON email_addresses (user_id) WHERE is_primary;
-- UsersByEmail.
CREATE INDEX email_addresses_email_idx ON email_addresses (lower(email));

CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	key_hash   BLOB    NOT NULL CHECK (length(key_hash) = 32),
	key_prefix TEXT    NOT NULL DEFAULT '',
	key_suffix TEXT    NOT NULL DEFAULT '',
	name       TEXT    NOT NULL DEFAULT '',
	created    INTEGER,
	expiry     INTEGER,
	last_seen  INTEGER,
	revoked    INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX api_tokens_key_hash_key ON api_tokens (key_hash);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE social_accounts (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	provider    TEXT    NOT NULL,
	uid         TEXT    NOT NULL,
	last_login  INTEGER,
	date_joined INTEGER,
	extra_data  BLOB
) STRICT;

CREATE UNIQUE INDEX social_accounts_provider_uid_key ON social_accounts (provider, uid);
CREATE INDEX social_accounts_user_idx ON social_accounts (user_id);

-- Sessions of github.com/alexedwards/scs/v2 (see SessionStore); expiry in unix microseconds.
CREATE TABLE sessions (
	token  TEXT    PRIMARY KEY,
	data   BLOB,
	expiry INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_expiry_idx ON sessions (expiry);
