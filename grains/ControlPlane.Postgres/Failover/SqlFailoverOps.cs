using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Failover;

/// <summary>
/// Failover operations that need nothing but a superuser SQL session, so they work for managed hosts (the
/// SQL-only driver) and for local instances alike. Each call opens one short, unpooled session with tight
/// timeouts (a frozen server must not hold a failover up) and the password read from the endpoint's file.
/// Statements that cannot take parameters (ALTER SYSTEM) are rendered server-side with <c>format('%L')</c>.
/// </summary>
public static class SqlFailoverOps
{
    public const int ConnectTimeoutSeconds = 3;
    public const int CommandTimeoutSeconds = 10;

    // Volatile functions inside CASE only run on the branch taken: an already promoted server is not asked again.
    internal const string Promote = "SELECT CASE WHEN pg_is_in_recovery() THEN pg_promote(true, $1) ELSE true END";
    internal const string SetSyncNames = "SELECT format('ALTER SYSTEM SET synchronous_standby_names = %L', $1::text)";
    internal const string ReadOnlyOn = "ALTER SYSTEM SET default_transaction_read_only = on";
    internal const string ReadOnlyReset = "ALTER SYSTEM RESET default_transaction_read_only";
    internal const string ReloadConf = "SELECT pg_reload_conf()";
    internal const string CurrentSetting = "SELECT current_setting($1)";
    // pg_terminate_backend(pid, timeout) waits for each backend to be gone, so none is mid-write on return.
    internal const string TerminateOtherClients = """
        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 2000))::int
          FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
        """;
    internal const string SourceTimelineSql = """
        SELECT r.in_recovery,
               CASE WHEN r.in_recovery THEN NULL
                    ELSE GREATEST((pg_control_checkpoint()).timeline_id,
                                  ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int) END,
               CASE WHEN r.in_recovery THEN NULL ELSE pg_current_wal_lsn()::text END
          FROM (SELECT pg_is_in_recovery() AS in_recovery) r
        """;
    internal const string ReadFile = "SELECT pg_read_file($1)";
    // Right after a promotion the control file still names the old timeline until a checkpoint completes.
    internal const string ControlFileBehindTimeline =
        "SELECT (pg_control_checkpoint()).timeline_id < ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";
    internal const string Checkpoint = "CHECKPOINT";
    internal const int CheckpointTimeoutSeconds = 300;
    // Reserve WAL at once: a rejoining standby needs the new primary's WAL from now on, before it first connects.
    internal const string CreateReservedSlot =
        "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)";
    internal const string DropInactiveSlot =
        "SELECT count(pg_drop_replication_slot(slot_name))::int FROM pg_replication_slots WHERE slot_name = $1 AND NOT active";
    // A slot the primary invalidated (wal_status 'lost') can never serve its standby again: it is dropped before
    // the slot is created anew for a rebuild. Only while no WAL sender holds it.
    internal const string DropLostSlot =
        "SELECT count(pg_drop_replication_slot(slot_name))::int FROM pg_replication_slots WHERE slot_name = $1 AND wal_status = 'lost' AND NOT active";
    internal const string SlotExists = "SELECT count(*)::int FROM pg_replication_slots WHERE slot_name = $1";
    internal const string WalReceiverSql = "SELECT status, sender_host, sender_port, received_tli FROM pg_stat_wal_receiver";

    private static readonly TimeSpan SettingWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Promotes the standby at <paramref name="endpoint"/> with <c>pg_promote(true, wait)</c>. True when it accepts
    /// writes within <paramref name="wait"/> (also when it already was a primary), false when the wait ran out.
    /// </summary>
    public static async Task<bool> PromoteAsync(ReplicaEndpoint endpoint, TimeSpan wait, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(wait, TimeSpan.Zero);
        var seconds = (int)Math.Max(1, Math.Ceiling(wait.TotalSeconds));
        await using var connection = await OpenAsync(endpoint, ct).ConfigureAwait(false);
        return (bool)(await ScalarAsync(connection, Promote, seconds + CommandTimeoutSeconds, ct, seconds).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Sets <c>synchronous_standby_names</c> (build the value with <see cref="SynchronousStandbyNames"/>) through
    /// ALTER SYSTEM, reloads, and returns once the server's configuration shows it. Whether a standby is actually
    /// synchronous is <c>pg_stat_replication.sync_state</c>: the walsenders apply the change a moment later.
    /// </summary>
    public static async Task SetSynchronousStandbyNamesAsync(ReplicaEndpoint primary, string value, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(value);
        await using var connection = await OpenAsync(primary, ct).ConfigureAwait(false);
        var statement = (string)(await ScalarAsync(connection, SetSyncNames, CommandTimeoutSeconds, ct, value).ConfigureAwait(false))!;
        await ExecuteAsync(connection, statement, ct).ConfigureAwait(false);
        await ReloadAndAwaitAsync(connection, "synchronous_standby_names", value, ct).ConfigureAwait(false);
    }

    /// <summary>The server's current <c>synchronous_standby_names</c> ("" when none).</summary>
    public static async Task<string> GetSynchronousStandbyNamesAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await OpenAsync(endpoint, ct).ConfigureAwait(false);
        return (string)(await ScalarAsync(connection, CurrentSetting, CommandTimeoutSeconds, ct, "synchronous_standby_names").ConfigureAwait(false))!;
    }

    /// <summary>
    /// Makes a primary refuse writes without stopping it: <c>default_transaction_read_only = on</c> through ALTER
    /// SYSTEM and a reload, then every other client session is terminated so none keeps writing in an old
    /// transaction. A soft fence: a session may still ask for a read-write transaction explicitly, so stopping the
    /// instance (<see cref="LocalInstanceDriver.FenceAsync"/>) is the hard fence wherever the host is reachable.
    /// </summary>
    /// <returns>The number of client sessions terminated.</returns>
    public static async Task<int> FenceWritesAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await OpenAsync(endpoint, ct).ConfigureAwait(false);
        await ExecuteAsync(connection, ReadOnlyOn, ct).ConfigureAwait(false);
        // Once our own session sees it, the postmaster has reloaded: every new session starts read-only.
        await ReloadAndAwaitAsync(connection, "default_transaction_read_only", "on", ct).ConfigureAwait(false);
        return (int)(await ScalarAsync(connection, TerminateOtherClients, CommandTimeoutSeconds * 3, ct).ConfigureAwait(false))!;
    }

    /// <summary>Undoes <see cref="FenceWritesAsync"/>: ALTER SYSTEM RESET and a reload.</summary>
    public static async Task UnfenceWritesAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await OpenAsync(endpoint, ct).ConfigureAwait(false);
        await ExecuteAsync(connection, ReadOnlyReset, ct).ConfigureAwait(false);
        await ReloadAndAwaitAsync(connection, "default_transaction_read_only", "off", ct).ConfigureAwait(false);
    }

    /// <summary>The timeline, WAL position and timeline history of the primary at <paramref name="endpoint"/>.</summary>
    internal static async Task<SourceTimeline> ReadSourceTimelineAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await OpenAsync(endpoint, ct).ConfigureAwait(false);
        int timeline;
        Lsn current;
        await using (var cmd = Command(connection, SourceTimelineSql, CommandTimeoutSeconds))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await reader.ReadAsync(ct).ConfigureAwait(false);
            if (reader.GetBoolean(0))
            {
                throw new InvalidOperationException($"{endpoint.Tier}/{endpoint.Name} at {endpoint.Host}:{endpoint.Port} is still in recovery; expected a promoted primary.");
            }
            timeline = reader.GetInt32(1);
            current = Lsn.Parse(reader.GetString(2));
        }
        var history = timeline == 1
            ? []
            : TimelineHistory.Parse((string)(await ScalarAsync(connection, ReadFile, CommandTimeoutSeconds, ct,
                "pg_wal/" + TimelineHistory.FileName(timeline)).ConfigureAwait(false))!);
        return new SourceTimeline(timeline, current, history);
    }

    /// <summary>
    /// Runs a CHECKPOINT on a freshly promoted primary whose control file still names its old timeline. pg_rewind
    /// reads the source's timeline from its control file: without this it compares timeline 1 with timeline 1 and
    /// answers "no rewind required" to a target that did diverge.
    /// </summary>
    /// <returns>True when a checkpoint was needed (and ran).</returns>
    internal static async Task<bool> EnsureCheckpointOnCurrentTimelineAsync(ReplicaEndpoint primary, CancellationToken ct)
    {
        await using var connection = await OpenAsync(primary, ct).ConfigureAwait(false);
        if (!(bool)(await ScalarAsync(connection, ControlFileBehindTimeline, CommandTimeoutSeconds, ct).ConfigureAwait(false))!) return false;
        await using var cmd = Command(connection, Checkpoint, CheckpointTimeoutSeconds);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Creates the physical slot on <paramref name="primary"/> unless it exists, reserving WAL at once; a
    /// slot that exists but was invalidated (lost) is replaced.</summary>
    /// <returns>True when a lost slot was replaced: the standby's WAL is gone from the primary, so only a fresh base
    /// backup brings it back (a plain restart would ask for removed segments forever).</returns>
    internal static async Task<bool> EnsureReservedSlotAsync(ReplicaEndpoint primary, string slotName, CancellationToken ct)
    {
        await using var connection = await OpenAsync(primary, ct).ConfigureAwait(false);
        var lost = (int)(await ScalarAsync(connection, DropLostSlot, CommandTimeoutSeconds, ct, slotName).ConfigureAwait(false))! > 0;
        await ScalarAsync(connection, CreateReservedSlot, CommandTimeoutSeconds, ct, slotName).ConfigureAwait(false);
        return lost;
    }

    /// <summary>
    /// Drops the slot of a replica that left the tier, once its WAL sender is gone (a slot nobody uses would keep WAL
    /// on the primary forever). Waits up to <paramref name="wait"/> for the slot to become inactive; true when it is
    /// gone (or never existed).
    /// </summary>
    public static async Task<bool> DropSlotAsync(ReplicaEndpoint primary, string slotName, TimeSpan wait, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + wait;
        await using var connection = await OpenAsync(primary, ct).ConfigureAwait(false);
        while (true)
        {
            await ScalarAsync(connection, DropInactiveSlot, CommandTimeoutSeconds, ct, slotName).ConfigureAwait(false);
            if ((int)(await ScalarAsync(connection, SlotExists, CommandTimeoutSeconds, ct, slotName).ConfigureAwait(false))! == 0) return true;
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    /// <summary>This standby's WAL receiver: status and upstream, or null when none runs.</summary>
    internal static async Task<(string Status, string? Host, int? Port, int? Timeline)?> ReadWalReceiverAsync(ReplicaEndpoint standby, CancellationToken ct)
    {
        await using var connection = await OpenAsync(standby, ct).ConfigureAwait(false);
        await using var cmd = Command(connection, WalReceiverSql, CommandTimeoutSeconds);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return null;
        return (reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3));
    }

    private static async Task ReloadAndAwaitAsync(NpgsqlConnection connection, string setting, string expected, CancellationToken ct)
    {
        await ScalarAsync(connection, ReloadConf, CommandTimeoutSeconds, ct).ConfigureAwait(false);
        var limit = DateTime.UtcNow + SettingWait;
        string? seen;
        // A backend applies a reload between commands, so polling in this session sees it as soon as it is applied.
        while ((seen = (string?)await ScalarAsync(connection, CurrentSetting, CommandTimeoutSeconds, ct, setting).ConfigureAwait(false)) != expected)
        {
            if (DateTime.UtcNow > limit)
            {
                throw new TimeoutException($"{setting} still reads '{seen}' {SettingWait.TotalSeconds:0}s after pg_reload_conf(); expected '{expected}'.");
            }
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    private static Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return AdminSql.OpenAsync(new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(endpoint))
        {
            Timeout = ConnectTimeoutSeconds,
            CommandTimeout = CommandTimeoutSeconds,
            // A frozen server never answers a cancel request; break the connection instead of waiting for it.
            CancellationTimeout = -1,
            ApplicationName = "controlplane-failover",
        }.ConnectionString, ct);
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, int timeoutSeconds) =>
        new(sql, connection) { CommandTimeout = timeoutSeconds };

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql, int timeoutSeconds, CancellationToken ct, params object[] args)
    {
        await using var cmd = Command(connection, sql, timeoutSeconds);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = Command(connection, sql, CommandTimeoutSeconds);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
