-- 0005: every silo caches verified tokens (docs/security.md, "Token cache"); a change to a token
-- row must reach every cache at once. A trigger announces the token id on the channel
-- 'controlplane_tokens' after an UPDATE (revocation) or DELETE; each silo LISTENs on it and drops
-- that id. NOTIFY is delivered at commit, only to sessions listening then: a silo whose listener
-- was disconnected drops its whole cache when it listens again (it may have missed anything).
-- INSERT needs no notice: a new id cannot be in any cache (unknown ids are never cached).

CREATE OR REPLACE FUNCTION controlplane_tokens_notify() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('controlplane_tokens', OLD.id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER controlplane_tokens_changed
    AFTER UPDATE OR DELETE ON controlplane_tokens
    FOR EACH ROW EXECUTE FUNCTION controlplane_tokens_notify();
