-- 0002: Orleans grain state (Microsoft.Orleans.Persistence.AdoNet, invariant "Npgsql").
--
-- Written for this project from the provider's contract; the package ships no SQL.
-- The provider loads WriteToStorageKey, ReadFromStorageKey, ClearStorageKey and (optional,
-- used when DeleteStateOnClear is set) DeleteStorageKey from OrleansQuery.
--
-- Every call receives the identity of one state row:
--   @ServiceId               text     ClusterOptions.ServiceId
--   @GrainIdHash             integer  hash of the grain key bytes (for the index only)
--   @GrainIdN0, @GrainIdN1   bigint   the two halves of a Guid key, or 0 and the integer key
--   @GrainTypeHash           integer  hash of @GrainTypeString (for the index only)
--   @GrainTypeString         text     the state name given to [PersistentState(name, ...)]
--   @GrainIdExtensionString  text     string key, or key extension, or NULL
-- Writes and clears add @GrainStateVersion (integer, NULL when the grain holds no ETag) and
-- writes add @PayloadBinary (bytea, the serialized state).
--
-- Hashes may collide, so every statement compares the full identity, not only the hashes.
--
-- Optimistic concurrency (the control plane's split-brain guard, DESIGN.md section 2): the
-- version is the grain's ETag. A write or clear changes the row only when the stored
-- version equals @GrainStateVersion (or, with a NULL version, when no row exists yet) and
-- returns the new version. On a mismatch it changes nothing and returns NULL; the
-- provider reads that as "" and throws InconsistentStateException. The reader expects the
-- column NewGrainStateVersion from a write, the first column from a clear or delete, and
-- PayloadBinary and Version from a read (no row: the grain starts from default state).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

CREATE TABLE IF NOT EXISTS orleans_grain_state
(
    service_id                text        NOT NULL,
    grain_id_hash             integer     NOT NULL,
    grain_id_n0               bigint      NOT NULL,
    grain_id_n1               bigint      NOT NULL,
    grain_type_hash           integer     NOT NULL,
    grain_type_string         text        NOT NULL,
    grain_id_extension_string text,
    payload_binary            bytea,
    version                   integer     NOT NULL,
    modified_at               timestamptz NOT NULL DEFAULT now()
);

-- One row per identity. The extension string is nullable (an integer key without
-- extension) and must stay distinct from an empty string key, hence the two expressions.
CREATE UNIQUE INDEX IF NOT EXISTS orleans_grain_state_identity
    ON orleans_grain_state (grain_id_hash, grain_type_hash, service_id, grain_id_n0, grain_id_n1,
                            grain_type_string, (coalesce(grain_id_extension_string, '')),
                            (grain_id_extension_string IS NULL));

CREATE OR REPLACE FUNCTION orleans_grain_state_write(
    p_service_id text, p_grain_id_hash integer, p_grain_id_n0 bigint, p_grain_id_n1 bigint,
    p_grain_type_hash integer, p_grain_type_string text, p_grain_id_extension_string text,
    p_expected_version integer, p_payload bytea)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_new_version integer;
BEGIN
    IF p_expected_version IS NULL THEN
        -- First write of this activation: succeeds only if nobody has written the row.
        INSERT INTO orleans_grain_state
            (service_id, grain_id_hash, grain_id_n0, grain_id_n1, grain_type_hash,
             grain_type_string, grain_id_extension_string, payload_binary, version, modified_at)
        VALUES
            (p_service_id, p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash,
             p_grain_type_string, p_grain_id_extension_string, p_payload, 1, now())
        ON CONFLICT DO NOTHING
        RETURNING version INTO v_new_version;
        RETURN v_new_version;
    END IF;

    UPDATE orleans_grain_state
       SET payload_binary = p_payload, version = version + 1, modified_at = now()
     WHERE grain_id_hash = p_grain_id_hash AND grain_type_hash = p_grain_type_hash
       AND service_id = p_service_id
       AND grain_id_n0 = p_grain_id_n0 AND grain_id_n1 = p_grain_id_n1
       AND grain_type_string = p_grain_type_string
       AND grain_id_extension_string IS NOT DISTINCT FROM p_grain_id_extension_string
       AND version = p_expected_version
    RETURNING version INTO v_new_version;
    RETURN v_new_version;
END
$fn$;

-- Clear keeps the row (payload NULL) and advances the version, so an activation holding
-- the old ETag still loses a later write.
CREATE OR REPLACE FUNCTION orleans_grain_state_clear(
    p_service_id text, p_grain_id_hash integer, p_grain_id_n0 bigint, p_grain_id_n1 bigint,
    p_grain_type_hash integer, p_grain_type_string text, p_grain_id_extension_string text,
    p_expected_version integer)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_new_version integer;
BEGIN
    UPDATE orleans_grain_state
       SET payload_binary = NULL, version = version + 1, modified_at = now()
     WHERE grain_id_hash = p_grain_id_hash AND grain_type_hash = p_grain_type_hash
       AND service_id = p_service_id
       AND grain_id_n0 = p_grain_id_n0 AND grain_id_n1 = p_grain_id_n1
       AND grain_type_string = p_grain_type_string
       AND grain_id_extension_string IS NOT DISTINCT FROM p_grain_id_extension_string
       AND version = p_expected_version
    RETURNING version INTO v_new_version;
    RETURN v_new_version;
END
$fn$;

-- Delete (DeleteStateOnClear = true) removes the row. It returns the version the row
-- would have had next: non-NULL and different from the caller's ETag means success.
CREATE OR REPLACE FUNCTION orleans_grain_state_delete(
    p_service_id text, p_grain_id_hash integer, p_grain_id_n0 bigint, p_grain_id_n1 bigint,
    p_grain_type_hash integer, p_grain_type_string text, p_grain_id_extension_string text,
    p_expected_version integer)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_next_version integer;
BEGIN
    DELETE FROM orleans_grain_state
     WHERE grain_id_hash = p_grain_id_hash AND grain_type_hash = p_grain_type_hash
       AND service_id = p_service_id
       AND grain_id_n0 = p_grain_id_n0 AND grain_id_n1 = p_grain_id_n1
       AND grain_type_string = p_grain_type_string
       AND grain_id_extension_string IS NOT DISTINCT FROM p_grain_id_extension_string
       AND version = p_expected_version
    RETURNING version + 1 INTO v_next_version;
    RETURN v_next_version;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $q$
SELECT payload_binary AS "PayloadBinary",
       version        AS "Version"
  FROM orleans_grain_state
 WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
   AND service_id = @ServiceId
   AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
   AND grain_type_string = @GrainTypeString
   AND grain_id_extension_string IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),
('WriteToStorageKey', $q$
SELECT orleans_grain_state_write(@ServiceId, @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
                                 @GrainTypeString, @GrainIdExtensionString, @GrainStateVersion,
                                 @PayloadBinary) AS "NewGrainStateVersion"
$q$),
('ClearStorageKey', $q$
SELECT orleans_grain_state_clear(@ServiceId, @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
                                 @GrainTypeString, @GrainIdExtensionString, @GrainStateVersion)
       AS "NewGrainStateVersion"
$q$),
('DeleteStorageKey', $q$
SELECT orleans_grain_state_delete(@ServiceId, @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash,
                                  @GrainTypeString, @GrainIdExtensionString, @GrainStateVersion)
       AS "NewGrainStateVersion"
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
