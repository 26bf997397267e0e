-- 0004: a sealed copy of the key of named tokens.
--
-- GET /api/user/token/?name= hands back the caller's existing token of that name, as
-- InvenTree does, so the key of a token issued there must be shown again. It is kept
-- encrypted by the Service under Config.Secret (opaque bytes here); every other token,
-- and every token written before, has NULL and stays shown once. Lookups still go by
-- key_hash alone.
ALTER TABLE api_tokens ADD COLUMN sealed_key BLOB;
