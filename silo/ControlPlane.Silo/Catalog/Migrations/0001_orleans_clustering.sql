-- 0001: Orleans cluster membership (Microsoft.Orleans.Clustering.AdoNet, invariant "Npgsql").
--
-- Written for this project from the provider's contract; the package ships no SQL.
-- The provider reads every row of OrleansQuery at start-up and fails unless all of these
-- keys exist: MembershipReadAllKey, MembershipReadRowKey, InsertMembershipVersionKey,
-- InsertMembershipKey, UpdateMembershipKey, UpdateIAmAlivetimeKey, GatewaysQueryKey,
-- DeleteMembershipTableEntriesKey, CleanupDefunctSiloEntriesKey. CleanupDefunctSiloEntryKey
-- is optional; when present the provider deletes dead rows one at a time with it.
--
-- Parameters arrive as Npgsql named parameters (@Name). Types on the wire:
--   DeploymentId, SiloName, HostName, SuspectTimes: text (SuspectTimes may be NULL)
--   Address: text (DbType.AnsiString); Port, Generation, Status, ProxyPort, Version: integer
--   StartTime, IAmAliveTime: timestamptz (DbType.DateTime with Kind=Utc)
-- The readers look columns up by name: Version, Address, Port, Generation, SiloName,
-- HostName, Status, ProxyPort, SuspectTimes, StartTime, IAmAliveTime. A membership read
-- must return at least one row (the version row) even when no silo is registered; a row
-- whose StartTime is NULL means "table version only, no member".
--
-- Table version: one row per cluster (DeploymentId = ClusterOptions.ClusterId). Every
-- insert/update of a member passes the version the silo last read (@Version); the write
-- succeeds only if the version row still holds that value, and then increments it. That
-- compare-and-set is what keeps membership linearizable; IAmAlive updates skip it.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

CREATE TABLE IF NOT EXISTS orleans_membership_version
(
    deployment_id text        NOT NULL PRIMARY KEY,
    version       integer     NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS orleans_membership
(
    deployment_id   text        NOT NULL
        REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL,
    proxy_port      integer,
    suspect_times   text,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- Creates the version row of a cluster once. Returns true only for the caller that created it.
CREATE OR REPLACE FUNCTION orleans_membership_version_init(p_deployment_id text)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO orleans_membership_version (deployment_id, version, updated_at)
    VALUES (p_deployment_id, 0, now())
    ON CONFLICT (deployment_id) DO NOTHING;
    RETURN FOUND;
END
$fn$;

-- Adds a silo if the caller's table version is current. Locks the version row first so
-- that concurrent writers queue on it; on any failure nothing changes and false is returned.
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    p_deployment_id text, p_address text, p_port integer, p_generation integer,
    p_silo_name text, p_host_name text, p_status integer, p_proxy_port integer,
    p_start_time timestamptz, p_i_am_alive_time timestamptz, p_expected_version integer)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM 1 FROM orleans_membership_version
     WHERE deployment_id = p_deployment_id AND version = p_expected_version
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    INSERT INTO orleans_membership
        (deployment_id, address, port, generation, silo_name, host_name, status,
         proxy_port, suspect_times, start_time, i_am_alive_time)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status,
         p_proxy_port, NULL, p_start_time, p_i_am_alive_time)
    ON CONFLICT (deployment_id, address, port, generation) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership_version
       SET version = version + 1, updated_at = now()
     WHERE deployment_id = p_deployment_id;
    RETURN true;
END
$fn$;

-- Changes a silo's status and suspicions if the caller's table version is current.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    p_deployment_id text, p_address text, p_port integer, p_generation integer,
    p_status integer, p_suspect_times text, p_i_am_alive_time timestamptz,
    p_expected_version integer)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM 1 FROM orleans_membership_version
     WHERE deployment_id = p_deployment_id AND version = p_expected_version
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership
       SET status = p_status, suspect_times = p_suspect_times, i_am_alive_time = p_i_am_alive_time
     WHERE deployment_id = p_deployment_id
       AND address = p_address AND port = p_port AND generation = p_generation;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE orleans_membership_version
       SET version = version + 1, updated_at = now()
     WHERE deployment_id = p_deployment_id;
    RETURN true;
END
$fn$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $q$
SELECT orleans_membership_version_init(@DeploymentId) AS "Inserted"
$q$),
('InsertMembershipKey', $q$
SELECT orleans_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                 @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS "Inserted"
$q$),
('UpdateMembershipKey', $q$
SELECT orleans_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status,
                                 @SuspectTimes, @IAmAliveTime, @Version) AS "Updated"
$q$),
('UpdateIAmAlivetimeKey', $q$
UPDATE orleans_membership
   SET i_am_alive_time = @IAmAliveTime
 WHERE deployment_id = @DeploymentId
   AND address = @Address AND port = @Port AND generation = @Generation
$q$),
('MembershipReadAllKey', $q$
SELECT v.version         AS "Version",
       m.address         AS "Address",
       m.port            AS "Port",
       m.generation      AS "Generation",
       m.silo_name       AS "SiloName",
       m.host_name       AS "HostName",
       m.status          AS "Status",
       m.proxy_port      AS "ProxyPort",
       m.suspect_times   AS "SuspectTimes",
       m.start_time      AS "StartTime",
       m.i_am_alive_time AS "IAmAliveTime"
  FROM orleans_membership_version v
  LEFT JOIN orleans_membership m ON m.deployment_id = v.deployment_id
 WHERE v.deployment_id = @DeploymentId
$q$),
('MembershipReadRowKey', $q$
SELECT v.version         AS "Version",
       m.address         AS "Address",
       m.port            AS "Port",
       m.generation      AS "Generation",
       m.silo_name       AS "SiloName",
       m.host_name       AS "HostName",
       m.status          AS "Status",
       m.proxy_port      AS "ProxyPort",
       m.suspect_times   AS "SuspectTimes",
       m.start_time      AS "StartTime",
       m.i_am_alive_time AS "IAmAliveTime"
  FROM orleans_membership_version v
  LEFT JOIN orleans_membership m
         ON m.deployment_id = v.deployment_id
        AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
 WHERE v.deployment_id = @DeploymentId
$q$),
('GatewaysQueryKey', $q$
SELECT address    AS "Address",
       proxy_port AS "ProxyPort",
       generation AS "Generation"
  FROM orleans_membership
 WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$q$),
('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId
$q$),
-- Only rows already declared dead (status 6) are removed: a silo that merely stopped
-- heart-beating is first voted dead by its peers, never deleted behind their back.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleans_membership
 WHERE deployment_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime
$q$),
-- Per-row variant: deletes the row only if it is still the dead row the silo read (same
-- start and last heartbeat). @SuspectTimes is also sent but not compared: the provider
-- re-serialises it from parsed values, so a text comparison could keep a row forever.
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM orleans_membership
 WHERE deployment_id = @DeploymentId
   AND address = @Address AND port = @Port AND generation = @Generation
   AND status = 6 AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
