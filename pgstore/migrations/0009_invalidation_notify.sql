-- 0009: tell token caches (restauth.Config.Tokens.Cache) of other instances when what a
-- token authenticates as changes. Each change of a user's row, tokens, addresses or
-- second factors notifies the channel restauth_invalidate with "<schema>:<user id>",
-- delivered when the transaction commits (and not at all when it rolls back), whichever
-- process or tool made it. Store.WatchInvalidations listens to it. PostgreSQL delivers
-- identical notifications of one transaction once, so deleting a user with many tokens
-- notifies once.
CREATE FUNCTION restauth_invalidate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        r := OLD;
    ELSE
        r := NEW;
    END IF;
    -- TG_ARGV[0] names the column holding the user's id.
    PERFORM pg_notify('restauth_invalidate', TG_TABLE_SCHEMA || ':' || (to_jsonb(r) ->> TG_ARGV[0]));
    RETURN NULL;
END
$$;

CREATE TRIGGER users_invalidate AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION restauth_invalidate('id');
-- Touching a token (last_seen) changes nothing a cache must forget.
CREATE TRIGGER api_tokens_invalidate AFTER UPDATE OF revoked, expiry, user_id OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION restauth_invalidate('user_id');
CREATE TRIGGER email_addresses_invalidate AFTER INSERT OR UPDATE OR DELETE ON email_addresses
    FOR EACH ROW EXECUTE FUNCTION restauth_invalidate('user_id');
CREATE TRIGGER totp_devices_invalidate AFTER INSERT OR UPDATE OR DELETE ON totp_devices
    FOR EACH ROW EXECUTE FUNCTION restauth_invalidate('user_id');
CREATE TRIGGER recovery_codes_invalidate AFTER INSERT OR DELETE ON recovery_codes
    FOR EACH ROW EXECUTE FUNCTION restauth_invalidate('user_id');
CREATE TRIGGER webauthn_credentials_invalidate AFTER INSERT OR DELETE ON webauthn_credentials
    FOR EACH ROW EXECUTE FUNCTION restauth_invalidate('user_id');
