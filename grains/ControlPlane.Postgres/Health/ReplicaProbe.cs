using System.Diagnostics;
using System.Text.Json;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Health;

/// <summary>
/// Probes one instance with a single query. One pooled data source per replica, built once; each probe is
/// bounded by a deadline (Npgsql's own timeouts are whole seconds, so a token enforces the exact bound).
/// A probe never throws for a sick instance: any failure is <see cref="ProbeResult.Unreachable"/>.
/// </summary>
public sealed partial class ReplicaProbe : IAsyncDisposable
{
    /// <summary>
    /// Role, timeline, LSNs, lag, WAL receiver, connections and replication rows in one round trip.
    /// Volatile functions inside CASE only run on the branch taken, so primary-only functions never run on a
    /// standby. The last column is the instance's term (<see cref="TermHistory"/>), null while it has none. A primary's timeline comes from its current WAL file name, because after a promotion
    /// pg_control_checkpoint() keeps the old timeline until the next checkpoint completes. The last two columns tell an
    /// in-place crash restart (<see cref="ProbeResult.ServerStartedAt"/>) from a new postmaster.
    /// </summary>
    public const string ProbeSql = $$"""
        SELECT r.in_recovery,
               CASE WHEN r.in_recovery
                    THEN COALESCE(w.received_tli, (pg_control_checkpoint()).timeline_id)
                    ELSE GREATEST((pg_control_checkpoint()).timeline_id,
                                  ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int)
               END AS timeline,
               CASE WHEN r.in_recovery THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
               pg_last_wal_receive_lsn()::text AS receive_lsn,
               pg_last_wal_replay_lsn()::text AS replay_lsn,
               CASE WHEN NOT r.in_recovery THEN NULL
                    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
                    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 0)
               END AS replay_lag_seconds,
               w.status AS wal_receiver_status,
               CASE WHEN w.sender_host IS NULL THEN NULL ELSE w.sender_host || ':' || w.sender_port END AS upstream,
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections,
               current_setting('max_connections')::int AS max_connections,
               current_setting('server_version') AS server_version,
               (SELECT COALESCE(json_agg(json_build_object(
                           'application_name', application_name, 'state', state, 'sync_state', sync_state,
                           'sent_lsn', sent_lsn::text, 'replay_lsn', replay_lsn::text) ORDER BY application_name), '[]')
                  FROM pg_stat_replication)::text AS replication,
               EXTRACT(EPOCH FROM clock_timestamp() - w.last_msg_receipt_time)::float8 AS wal_receiver_last_msg_age_seconds,
               {{TermHistory.ProbeColumnSql}} AS term_mark,
               (SELECT COALESCE(json_agg(slot_name::text ORDER BY slot_name), '[]')
                  FROM pg_replication_slots WHERE slot_type = 'physical' AND wal_status = 'lost')::text AS lost_slots,
               pg_postmaster_start_time() AS postmaster_started_at,
               (SELECT min(backend_start) FROM pg_stat_activity WHERE backend_type = 'checkpointer') AS server_started_at,
               current_setting('synchronous_standby_names') AS synchronous_standby_names
          FROM (SELECT pg_is_in_recovery() AS in_recovery) r
          LEFT JOIN (SELECT status, received_tli, sender_host, sender_port, last_msg_receipt_time
                       FROM pg_stat_wal_receiver LIMIT 1) w ON true
        """;

    public const string ApplicationName = "controlplane-probe";

    private readonly ReplicaEndpoint _endpoint;
    private readonly TimeSpan _timeout;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _password;

    /// <param name="timeout">Connect plus query budget; keep it under the probe interval.</param>
    public ReplicaProbe(ReplicaEndpoint endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _endpoint = endpoint;
        _timeout = timeout;
        _password = SecretFile.Read(endpoint.PasswordFile);
        var seconds = (int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
        var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.User,
            Password = _password,
            SslMode = endpoint.TlsMode,
            ApplicationName = ApplicationName,
            Pooling = true,
            MinPoolSize = 0,
            MaxPoolSize = 2,
            Timeout = seconds,
            CommandTimeout = seconds,
            // A frozen server never answers a cancel request; break the connection instead of waiting for it.
            CancellationTimeout = -1,
        }.ConnectionString);
        _dataSource = builder.Build();
    }

    public ReplicaEndpoint Endpoint => _endpoint;

    public async Task<ProbeResult> ProbeAsync(CancellationToken ct)
    {
        var at = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        try
        {
            // WaitAsync is the backstop should a connect attempt ignore the token.
            return await RunAsync(at, watch, deadline.Token).WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException
                                      || (e is NpgsqlException ne && ne.InnerException is TimeoutException))
        {
            return ProbeResult.Unreachable(at, watch.Elapsed, $"timed out after {_timeout.TotalSeconds:0.###}s");
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or FormatException or JsonException or IOException)
        {
            return ProbeResult.Unreachable(at, watch.Elapsed, Describe(e));
        }
    }

    private async Task<ProbeResult> RunAsync(DateTimeOffset at, Stopwatch watch, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(ProbeSql, connection) { CommandTimeout = (int)Math.Max(1, Math.Ceiling(_timeout.TotalSeconds)) };
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false)) throw new InvalidOperationException("probe query returned no row");

        return new ProbeResult(
            At: at,
            Reachable: true,
            Latency: watch.Elapsed,
            Error: null,
            InRecovery: reader.GetBoolean(0),
            Timeline: reader.IsDBNull(1) ? null : reader.GetInt32(1),
            CurrentLsn: LsnAt(reader, 2),
            ReceiveLsn: LsnAt(reader, 3),
            ReplayLsn: LsnAt(reader, 4),
            ReplayLagSeconds: reader.IsDBNull(5) ? null : reader.GetDouble(5),
            WalReceiverStatus: reader.IsDBNull(6) ? null : reader.GetString(6),
            WalReceiverUpstream: reader.IsDBNull(7) ? null : reader.GetString(7),
            Connections: reader.GetInt32(8),
            MaxConnections: reader.GetInt32(9),
            ServerVersion: reader.GetString(10),
            Replication: ParseReplication(reader.GetString(11)),
            WalReceiverLastMessageAgeSeconds: reader.IsDBNull(12) ? null : Math.Max(0, reader.GetDouble(12)),
            Term: TermHistory.Parse(reader.IsDBNull(13) ? null : reader.GetString(13)))
        {
            LostSlots = ParseNames(reader.GetString(14)),
            PostmasterStartedAt = reader.IsDBNull(15) ? null : reader.GetFieldValue<DateTimeOffset>(15),
            ServerStartedAt = reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16),
            SynchronousStandbyNames = reader.GetString(17),
        };
    }

    /// <summary>Parses the json aggregate of pg_stat_replication rows.</summary>
    internal static IReadOnlyList<ReplicationPeer> ParseReplication(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var peers = new List<ReplicationPeer>();
        foreach (var row in doc.RootElement.EnumerateArray())
        {
            peers.Add(new ReplicationPeer(
                Text(row, "application_name") ?? "",
                Text(row, "state") ?? "",
                Text(row, "sync_state") ?? "",
                Lsn.TryParse(Text(row, "sent_lsn"), out var sent) ? sent : null,
                Lsn.TryParse(Text(row, "replay_lsn"), out var replay) ? replay : null));
        }
        return peers;
    }

    /// <summary>Parses a json array of names.</summary>
    internal static IReadOnlyList<string> ParseNames(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.EnumerateArray().Select(e => e.GetString() ?? "").Where(n => n.Length > 0).ToList();
    }

    private static string? Text(JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Lsn? LsnAt(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Lsn.Parse(reader.GetString(ordinal));

    /// <summary>A short, password-free description: the error's own text, scrubbed of the password just in case.</summary>
    private string Describe(Exception e)
    {
        var message = e is PostgresException pg ? $"{pg.SqlState}: {pg.MessageText}" : e.Message;
        if (e is NpgsqlException { InnerException: { } inner } && e is not PostgresException) message += $" ({inner.Message})";
        message = message.Replace(_password, "***", StringComparison.Ordinal);
        return message.Length <= 300 ? message : message[..300];
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public override string ToString() => $"probe of {_endpoint.Tier}/{_endpoint.Name} at {_endpoint.Host}:{_endpoint.Port}";
}
