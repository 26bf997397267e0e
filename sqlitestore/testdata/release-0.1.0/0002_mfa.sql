-- 0002: multi-factor authentication: TOTP devices and recovery codes.
--
-- Both go with their user (ON DELETE CASCADE), like addresses, tokens and social accounts.

-- A user has at most one TOTP device: user_id is the primary key, and a second device
-- breaks it (ConflictError "totp").
CREATE TABLE totp_devices (
	user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	-- sealed_secret is the shared secret as the Service encrypted it; opaque here.
	sealed_secret BLOB    NOT NULL,
	confirmed     INTEGER NOT NULL DEFAULT 0,
	created       INTEGER,
	-- last_step is the TOTP time step of the last code accepted (0: none).
	last_step     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE recovery_codes (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	-- hash is a keyed HMAC of the code; the code itself is never stored.
	hash    BLOB    NOT NULL CHECK (length(hash) = 32),
	-- used is when the code was used; NULL while it is unused.
	used    INTEGER
) STRICT;

CREATE INDEX recovery_codes_user_idx ON recovery_codes (user_id);
