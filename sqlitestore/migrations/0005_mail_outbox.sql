-- 0005: the mail outbox (restauth.OutboxStore).
--
-- A row is a mail the Service decided to send: its intent (kind, user, address, and an
-- opaque payload the Service seals where it holds anything sensitive), never a live
-- token or link. Times are Unix microseconds; leased_until is NULL while unclaimed.
-- There is no foreign key to users: a reset request names an address, not a user, and
-- a notice may outlive its user's deletion by a moment.
CREATE TABLE mail_outbox (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	idempotency_key TEXT    NOT NULL UNIQUE,
	kind            TEXT    NOT NULL,
	user_id         INTEGER NOT NULL DEFAULT 0,
	email           TEXT    NOT NULL DEFAULT '',
	payload         BLOB,
	created         INTEGER NOT NULL,
	due             INTEGER NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	leased_until    INTEGER
);
CREATE INDEX mail_outbox_due ON mail_outbox (due, id);
