using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Pools;

/// <summary>The settings that bound a server's connection capacity.</summary>
public sealed record ConnectionSettings(int MaxConnections, int SuperuserReserved, int Reserved, int MaxWalSenders, int ServerVersionNum);

/// <summary>One client backend as pg_stat_activity shows it; ages in seconds (null when not applicable).</summary>
public sealed record SessionRow(int Pid, string ApplicationName, string State, double BackendAgeSeconds, double? StateAgeSeconds, double? TransactionAgeSeconds)
{
    public bool IdleInTransaction => State is "idle in transaction" or "idle in transaction (aborted)";
}

public sealed record PoolSample(DateTimeOffset At, bool InRecovery, ConnectionSettings Settings, IReadOnlyList<SessionRow> Sessions);

/// <summary>
/// What the pools need from one instance: the capacity settings and every client backend, in one round trip; and
/// pg_terminate_backend for the idle-in-transaction policy. Owned by the replica grain of the instance (no grain
/// reads another grain's connections); one small pool, bounded by a deadline like the probe.
/// </summary>
public sealed class PoolInspector : IAsyncDisposable
{
    public const string ApplicationName = "controlplane-pools";

    /// <summary>reserved_connections exists from PostgreSQL 16; current_setting(..., true) answers NULL before.</summary>
    public const string SettingsSql = """
        SELECT pg_is_in_recovery(),
               current_setting('max_connections')::int,
               current_setting('superuser_reserved_connections')::int,
               COALESCE(current_setting('reserved_connections', true), '0')::int,
               current_setting('max_wal_senders')::int,
               current_setting('server_version_num')::int
        """;

    /// <summary>Client backends other than this one; the clock is the server's, so ages need no clock sync.</summary>
    public const string SessionsSql = """
        SELECT pid, COALESCE(application_name, ''), COALESCE(state, ''),
               EXTRACT(EPOCH FROM clock_timestamp() - backend_start)::float8,
               EXTRACT(EPOCH FROM clock_timestamp() - state_change)::float8,
               EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8
          FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
         ORDER BY pid
        """;

    /// <summary>Terminates only sessions still idle in transaction with the expected tag, so a pid reused since the sample is spared.</summary>
    public const string TerminateSql = """
        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int
          FROM pg_stat_activity
         WHERE pid = ANY(@pids) AND state LIKE 'idle in transaction%' AND application_name LIKE @prefix
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeSpan _timeout;

    public PoolInspector(ReplicaEndpoint endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _timeout = timeout;
        _dataSource = InspectorDataSource.Create(endpoint, ApplicationName, timeout);
    }

    /// <summary>One sample; throws NpgsqlException (or times out) when the instance does not answer.</summary>
    public async Task<PoolSample> SampleAsync(CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        await using var connection = await _dataSource.OpenConnectionAsync(deadline.Token).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection) { BatchCommands = { new(SettingsSql), new(SessionsSql) } };
        await using var reader = await batch.ExecuteReaderAsync(deadline.Token).ConfigureAwait(false);
        if (!await reader.ReadAsync(deadline.Token).ConfigureAwait(false)) throw new InvalidOperationException("settings query returned no row");
        var inRecovery = reader.GetBoolean(0);
        var settings = new ConnectionSettings(reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5));
        await reader.NextResultAsync(deadline.Token).ConfigureAwait(false);
        var sessions = new List<SessionRow>();
        while (await reader.ReadAsync(deadline.Token).ConfigureAwait(false))
        {
            sessions.Add(new SessionRow(reader.GetInt32(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? 0 : reader.GetDouble(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4),
                reader.IsDBNull(5) ? null : reader.GetDouble(5)));
        }
        return new PoolSample(DateTimeOffset.UtcNow, inRecovery, settings, sessions);
    }

    /// <summary>Terminates the given sessions if they are still idle in transaction under <paramref name="tagPrefix"/>; answers how many went.</summary>
    public async Task<int> TerminateIdleInTransactionAsync(IReadOnlyList<int> pids, string tagPrefix, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(pids);
        if (pids.Count == 0) return 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        await using var connection = await _dataSource.OpenConnectionAsync(deadline.Token).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(TerminateSql, connection);
        cmd.Parameters.AddWithValue("pids", pids.ToArray());
        cmd.Parameters.AddWithValue("prefix", EscapeLike(tagPrefix) + "%");
        return (int)(await cmd.ExecuteScalarAsync(deadline.Token).ConfigureAwait(false) ?? 0);
    }

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
