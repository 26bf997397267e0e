-- 0006: the index of a user's logged-in sessions (restauth.UserSessionStore).
--
-- The sessions table is keyed by session and knows no user; this table lists each
-- session login of a user, so a user can list their sessions and end one. session_hash
-- is the sessions table's key (the SHA-256 of the session id), which opens nothing by
-- itself. The records go with their user (ON DELETE CASCADE).
CREATE TABLE user_sessions (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_hash TEXT    NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT '',
	created      INTEGER,
	last_seen    INTEGER
) STRICT;

CREATE INDEX user_sessions_user_idx ON user_sessions (user_id, session_hash);
