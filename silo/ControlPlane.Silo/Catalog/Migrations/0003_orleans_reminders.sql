-- 0003: Orleans reminders (Microsoft.Orleans.Reminders.AdoNet, invariant "Npgsql").
--
-- Written for this project from the provider's contract; the package ships no SQL.
-- Required keys: ReadReminderRowsKey, ReadReminderRowKey, ReadRangeRows1Key,
-- ReadRangeRows2Key, UpsertReminderRowKey, DeleteReminderRowKey, DeleteReminderRowsKey.
--
-- Parameters: @ServiceId text (ClusterOptions.ServiceId), @GrainId text (GrainId.ToString()),
-- @ReminderName text, @StartTime timestamptz (UTC), @Period integer or bigint milliseconds
-- (bigint only when it does not fit an integer), @GrainHash integer (the grain's uniform
-- hash, a uint cast to a signed int), @BeginHash/@EndHash integer (same cast),
-- @Version integer (the reminder's ETag).
-- Readers look up GrainId, ReminderName, StartTime, Period and Version by name; the upsert
-- returns Version (the new ETag); the delete returns one boolean column.
--
-- Ranges: a silo owns the ring range (BeginHash, EndHash]. The provider compares the two
-- bounds as signed integers and picks ReadRangeRows1Key when BeginHash < EndHash (one
-- contiguous interval) and ReadRangeRows2Key otherwise (the interval wraps around, or
-- BeginHash = EndHash meaning the whole ring). Because both sides are the same signed
-- cast, comparing the stored signed grain_hash against them is exact.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

CREATE TABLE IF NOT EXISTS orleans_reminder
(
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL,
    start_time    timestamptz NOT NULL,
    period        bigint      NOT NULL,
    grain_hash    integer     NOT NULL,
    version       integer     NOT NULL,
    modified_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, grain_id, reminder_name)
);

-- Range reads (every silo, at start-up and on each ring change) scan by service and hash.
CREATE INDEX IF NOT EXISTS orleans_reminder_service_hash
    ON orleans_reminder (service_id, grain_hash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadReminderRowsKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND grain_id = @GrainId
$q$),
('ReadReminderRowKey', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
$q$),
('ReadRangeRows1Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND grain_hash > @BeginHash AND grain_hash <= @EndHash
$q$),
('ReadRangeRows2Key', $q$
SELECT grain_id AS "GrainId", reminder_name AS "ReminderName", start_time AS "StartTime",
       period AS "Period", version AS "Version"
  FROM orleans_reminder
 WHERE service_id = @ServiceId AND (grain_hash > @BeginHash OR grain_hash <= @EndHash)
$q$),
-- Registering an existing reminder again replaces its schedule and advances its ETag.
('UpsertReminderRowKey', $q$
INSERT INTO orleans_reminder AS r
    (service_id, grain_id, reminder_name, start_time, period, grain_hash, version, modified_at)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 1, now())
ON CONFLICT (service_id, grain_id, reminder_name) DO UPDATE
   SET start_time = EXCLUDED.start_time, period = EXCLUDED.period,
       grain_hash = EXCLUDED.grain_hash, version = r.version + 1, modified_at = now()
RETURNING r.version AS "Version"
$q$),
-- Deletes only when the caller holds the current ETag; false tells it someone changed it.
('DeleteReminderRowKey', $q$
WITH deleted AS (
    DELETE FROM orleans_reminder
     WHERE service_id = @ServiceId AND grain_id = @GrainId AND reminder_name = @ReminderName
       AND version = @Version
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM deleted) AS "Deleted"
$q$),
('DeleteReminderRowsKey', $q$
DELETE FROM orleans_reminder WHERE service_id = @ServiceId
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
