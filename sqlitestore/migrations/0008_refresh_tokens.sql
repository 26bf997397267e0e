-- 0008: the refresh tokens of app clients' JSON Web Tokens (restauth.RefreshToken).
--
-- A token is kept by the SHA-256 of its id, never the token itself, and goes with its
-- user (ON DELETE CASCADE). Exchanging one deletes its row and inserts its successor in
-- one transaction, so a rotated token is never accepted again.
CREATE TABLE refresh_tokens (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash    BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
	-- family names the login the token descends from; a logout deletes the family.
	family  TEXT    NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) STRICT;

CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id, family);
