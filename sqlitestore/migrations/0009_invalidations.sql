-- 0009: a log of changes to what a token authenticates as, for the token caches
-- (restauth.Config.Tokens.Cache) of other processes sharing the file: each change of a
-- user's row, tokens, addresses or second factors appends the user's id, in the same
-- transaction, whichever process or tool made it. Store.WatchInvalidations reads the rows
-- past the last it saw. Only the newest 1000 rows are kept: a reader that fell further
-- behind sees the gap and forgets everything.
CREATE TABLE token_invalidations (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id INTEGER NOT NULL
) STRICT;

CREATE TRIGGER token_invalidations_prune AFTER INSERT ON token_invalidations BEGIN
	DELETE FROM token_invalidations WHERE id <= new.id - 1000;
END;

CREATE TRIGGER users_invalidate_update AFTER UPDATE ON users BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.id);
END;
CREATE TRIGGER users_invalidate_delete AFTER DELETE ON users BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (old.id);
END;
-- Touching a token (last_seen) changes nothing a cache must forget.
CREATE TRIGGER api_tokens_invalidate_update AFTER UPDATE OF revoked, expiry, user_id ON api_tokens BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.user_id);
END;
CREATE TRIGGER api_tokens_invalidate_delete AFTER DELETE ON api_tokens BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (old.user_id);
END;
CREATE TRIGGER email_addresses_invalidate_insert AFTER INSERT ON email_addresses BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.user_id);
END;
CREATE TRIGGER email_addresses_invalidate_update AFTER UPDATE ON email_addresses BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.user_id);
END;
CREATE TRIGGER email_addresses_invalidate_delete AFTER DELETE ON email_addresses BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (old.user_id);
END;
CREATE TRIGGER totp_devices_invalidate_insert AFTER INSERT ON totp_devices BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.user_id);
END;
CREATE TRIGGER totp_devices_invalidate_update AFTER UPDATE ON totp_devices BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.user_id);
END;
CREATE TRIGGER totp_devices_invalidate_delete AFTER DELETE ON totp_devices BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (old.user_id);
END;
CREATE TRIGGER recovery_codes_invalidate_insert AFTER INSERT ON recovery_codes BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.user_id);
END;
CREATE TRIGGER recovery_codes_invalidate_delete AFTER DELETE ON recovery_codes BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (old.user_id);
END;
CREATE TRIGGER webauthn_credentials_invalidate_insert AFTER INSERT ON webauthn_credentials BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (new.user_id);
END;
CREATE TRIGGER webauthn_credentials_invalidate_delete AFTER DELETE ON webauthn_credentials BEGIN
	INSERT INTO token_invalidations (user_id) VALUES (old.user_id);
END;
