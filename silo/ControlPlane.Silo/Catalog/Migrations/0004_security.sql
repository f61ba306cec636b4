-- 0004: security: bearer tokens (salted hashes only) and the append-only audit log.
--
-- controlplane_tokens: one row per token. A token is "cpt_<id>_<secret>"; the catalog keeps the
-- public id and SHA-256(salt || secret), never the secret. Revocation sets revoked_at; rows are
-- kept so the audit log's principals stay explainable.
--
-- controlplane_audit: one row per mutating RPC, per denial and per autonomous decision. The
-- control plane only ever inserts: a trigger refuses UPDATE, DELETE and TRUNCATE, so a bug (or a
-- compromised silo speaking SQL through the application role) cannot rewrite history. Retention,
-- when needed, is a DBA's job: disable the trigger under an audited change, archive, re-enable.

CREATE TABLE IF NOT EXISTS controlplane_tokens
(
    id          text        NOT NULL PRIMARY KEY,
    name        text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    tenants     text[]      NOT NULL DEFAULT '{}',
    salt        bytea       NOT NULL,
    hash        bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL,
    expires_at  timestamptz NULL,
    revoked_at  timestamptz NULL,
    revoked_by  text        NULL
);

CREATE INDEX IF NOT EXISTS controlplane_tokens_active_role
    ON controlplane_tokens (role) WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS controlplane_audit
(
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    principal     text        NOT NULL,
    source        text        NOT NULL,
    rpc           text        NOT NULL,
    target        text        NOT NULL,
    arguments     text        NOT NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    status        text        NOT NULL,
    detail        text        NOT NULL,
    operation_id  text        NOT NULL
);

CREATE INDEX IF NOT EXISTS controlplane_audit_at ON controlplane_audit (at);
CREATE INDEX IF NOT EXISTS controlplane_audit_principal_at ON controlplane_audit (principal, at);

CREATE OR REPLACE FUNCTION controlplane_audit_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'controlplane_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE TRIGGER controlplane_audit_no_update_delete
    BEFORE UPDATE OR DELETE ON controlplane_audit
    FOR EACH ROW EXECUTE FUNCTION controlplane_audit_append_only();

CREATE OR REPLACE TRIGGER controlplane_audit_no_truncate
    BEFORE TRUNCATE ON controlplane_audit
    FOR EACH STATEMENT EXECUTE FUNCTION controlplane_audit_append_only();
