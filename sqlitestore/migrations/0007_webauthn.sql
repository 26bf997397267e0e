-- 0007: WebAuthn credentials (security keys and passkeys).
--
-- They go with their user (ON DELETE CASCADE), like every other row of a user. A credential
-- id is unique across all users (ConflictError "webauthn"): an authenticator answers to one
-- id, so two rows holding it would let one key log into two accounts.
CREATE TABLE webauthn_credentials (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	credential_id    BLOB    NOT NULL UNIQUE,
	-- user_handle is the WebAuthn user handle when not the default (the user's id).
	user_handle      BLOB,
	-- public_key is the COSE key; only the public half of a credential exists here.
	public_key       BLOB    NOT NULL,
	-- sign_count only moves forward (UseWebAuthnCredential's conditional UPDATE).
	sign_count       INTEGER NOT NULL DEFAULT 0 CHECK (sign_count >= 0),
	-- transports is a comma-separated list ("usb,nfc"); NULL when none was reported.
	transports       TEXT,
	-- flags are the authenticator-data flags of the last ceremony (bit 3 backup eligible,
	-- bit 4 backup state).
	flags            INTEGER NOT NULL DEFAULT 0,
	aaguid           BLOB,
	attestation_type TEXT    NOT NULL DEFAULT '',
	passkey          INTEGER NOT NULL DEFAULT 0,
	name             TEXT    NOT NULL DEFAULT '',
	created          INTEGER,
	last_used        INTEGER
) STRICT;

CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);
