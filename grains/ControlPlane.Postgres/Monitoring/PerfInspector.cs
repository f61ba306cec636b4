using System.Diagnostics;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Monitoring;

/// <summary>
/// Reads the monitoring facts of one instance over SQL: the cheap family (locks, transactions, wraparound, slots,
/// cache) and the heavy one (statements, table scans, indexes). One small pool per replica, owned by its grain; every
/// command bounded by a timeout. Throws NpgsqlException or times out when the instance does not answer: reachability
/// is the probe's business.
/// </summary>
public sealed class PerfInspector : IAsyncDisposable
{
    public const string ApplicationName = "controlplane-monitoring";
    public const int StatementLimit = 50;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _database;
    private int? _serverVersion;

    public PerfInspector(ReplicaEndpoint endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _database = endpoint.Database;
        _dataSource = InspectorDataSource.Create(endpoint, ApplicationName, timeout);
    }

    public async Task<CheapSample> SampleCheapAsync(CancellationToken ct)
    {
        var at = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        var locks = await ReadAsync(connection, PerfSql.LockSessions, r => new LockSession(
            r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5),
            NullableDouble(r, 6), NullableDouble(r, 7), r.GetString(8), r.GetFieldValue<int[]>(9), r.GetFieldValue<string[]>(10)), ct).ConfigureAwait(false);
        var transactions = await ReadAsync(connection, PerfSql.OpenTransactions, r => new OpenTransaction(
            r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
            r.GetDouble(5), NullableDouble(r, 6) ?? 0, r.GetString(7)), ct).ConfigureAwait(false);
        var oldest = (await ReadAsync(connection, PerfSql.Wraparound, r => (r.GetString(0), r.GetInt64(1)), ct).ConfigureAwait(false)).FirstOrDefault();
        var slots = await ReadAsync(connection, PerfSql.Slots, r => new SlotRetention(
            r.GetString(0), r.GetString(1), r.GetBoolean(2), r.IsDBNull(3) ? null : r.GetString(3), r.IsDBNull(4) ? null : r.GetInt64(4)), ct).ConfigureAwait(false);
        var cache = (await ReadAsync(connection, PerfSql.CacheHit, r => r.GetDouble(0), ct).ConfigureAwait(false)).FirstOrDefault(1);
        _serverVersion ??= (await ReadAsync(connection, ServerActivitySql.ServerVersion, r => r.GetInt32(0), ct).ConfigureAwait(false)).FirstOrDefault();
        var counters = (await ReadAsync(connection, _serverVersion >= 170000 ? ServerActivitySql.CountersCheckpointer : ServerActivitySql.CountersBgwriter,
            r => new ServerCounters(r.GetInt64(0), r.GetInt64(1), r.GetDouble(2), r.GetDouble(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6)), ct).ConfigureAwait(false))
            .FirstOrDefault();
        return new CheapSample(at, locks, transactions, oldest.Item1 ?? "", oldest.Item2, slots, cache, watch.Elapsed) { Counters = counters };
    }

    public async Task<HeavySample> SampleHeavyAsync(CancellationToken ct)
    {
        var at = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        var available = (await ReadAsync(connection, PerfSql.StatementsAvailable, r => r.GetBoolean(0), ct).ConfigureAwait(false)).FirstOrDefault();
        IReadOnlyList<StatementStats> statements = [];
        if (available)
        {
            statements = await ReadAsync(connection, PerfSql.TopStatements, r => new StatementStats(
                r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetDouble(3), NullableDouble(r, 4) ?? 0, r.GetInt64(5),
                r.GetInt64(6), r.GetInt64(7), r.GetInt64(8)), ct, ("limit", StatementLimit)).ConfigureAwait(false);
        }
        var tables = await ReadAsync(connection, PerfSql.TableScans, r => new TableScans(
            r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6)), ct).ConfigureAwait(false);
        var indexes = await ReadAsync(connection, PerfSql.Indexes, r => new IndexUsage(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetBoolean(5), r.GetBoolean(6), r.GetBoolean(7),
            r.GetString(8), r.GetString(9)), ct).ConfigureAwait(false);
        var tableBloat = await ReadAsync(connection, ServerActivitySql.TableBloat, Bloat, ct).ConfigureAwait(false);
        var indexBloat = await ReadAsync(connection, ServerActivitySql.IndexBloat, Bloat, ct).ConfigureAwait(false);
        var partitioned = await ReadAsync(connection, ServerActivitySql.Partitions, r => new PartitionedTable(
            r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetBoolean(3), r.GetInt64(4))
        {
            RangeEnd = r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5),
        }, ct).ConfigureAwait(false);
        return new HeavySample(at, _database, available, statements, tables, indexes, watch.Elapsed)
        {
            TableBloat = tableBloat,
            IndexBloat = indexBloat,
            PartitionedTables = partitioned,
        };
    }

    private static Task<IReadOnlyList<T>> ReadAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> map,
        CancellationToken ct, params (string Name, object Value)[] parameters) =>
        InspectorDataSource.ReadAsync(connection, sql, map, ct, parameters);

    private static BloatEstimate Bloat(NpgsqlDataReader r) => new(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3));

    private static double? NullableDouble(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);

    /// <summary>Creates pg_stat_statements in the endpoint's database (a primary; standbys get it by replication).</summary>
    public static async Task EnsureStatementsExtensionAsync(ReplicaEndpoint primary, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(PerfSql.CreateStatementsExtension, connection);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
