-- 0003: session ids are hashed at rest.
--
-- restauth now keys every session by the SHA-256 of its id (scs's HashTokenInStore), so
-- that the sessions table cannot be sent back as cookies. The rows written before hold the
-- ids themselves: no cookie would find them again, and each is a live credential for
-- whoever reads the table. They cannot be re-keyed here (SQLite has no SHA-256), so they
-- are deleted: every browser logs in once more. API tokens are not touched.
DELETE FROM sessions;
