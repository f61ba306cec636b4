using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Capacity;

/// <summary>
/// Reads the capacity facts of one instance: sizes, connections, counters for TPS and WAL rate, wraparound age, and,
/// when the instance's data directory is on this host, the free space of its and pg_wal's filesystems. One small pool per replica,
/// owned by its capacity grain; every command bounded by a timeout. Throws NpgsqlException or times out when the
/// instance does not answer.
/// </summary>
public sealed class CapacitySampler : IAsyncDisposable
{
    public const string ApplicationName = "controlplane-capacity";
    public const int TableLimit = 20;

    private readonly NpgsqlDataSource _dataSource;
    private readonly string? _dataDirectory;

    public CapacitySampler(ReplicaEndpoint endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _dataDirectory = endpoint.DataDirectory;
        _dataSource = InspectorDataSource.Create(endpoint, ApplicationName, timeout);
    }

    public async Task<CapacityFacts> SampleAsync(CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        CapacityFacts? totals = null;
        await using (var cmd = new NpgsqlCommand(CapacitySql.Totals, connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                totals = new CapacityFacts(
                    new DateTimeOffset(reader.GetDateTime(0).ToUniversalTime(), TimeSpan.Zero), reader.GetBoolean(1), reader.GetInt64(2),
                    reader.GetInt32(3), reader.GetInt32(4), reader.GetInt64(5), reader.IsDBNull(6) ? 0 : reader.GetInt64(6), reader.GetInt64(7),
                    [], [], new Dictionary<string, long>(), null);
            }
        }
        if (totals is null) throw new InvalidOperationException("the capacity totals query returned no row.");
        var databases = await ReadAsync(connection, CapacitySql.Databases, r => new DatabaseSize(r.GetString(0), r.GetInt64(1)), ct).ConfigureAwait(false);
        var tables = await ReadAsync(connection, CapacitySql.Tables, r => new TableSize(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3)), ct,
            ("limit", TableLimit)).ConfigureAwait(false);
        var tenants = await ReadAsync(connection, CapacitySql.TenantSchemas, r => (r.GetString(0), r.GetInt64(1)), ct).ConfigureAwait(false);
        var shared = await ReadAsync(connection, CapacitySql.SharedTables, r => new SharedTableStats(
            r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.IsDBNull(3) ? 0 : r.GetFloat(3), r.IsDBNull(4) ? 0 : r.GetFloat(4),
            r.IsDBNull(5) ? [] : r.GetFieldValue<string[]>(5), r.IsDBNull(6) ? [] : [.. r.GetFieldValue<float[]>(6).Select(f => (double)f)]), ct).ConfigureAwait(false);
        return totals with
        {
            Databases = databases,
            Tables = tables,
            TenantSchemaBytes = tenants.ToDictionary(t => t.Item1, t => t.Item2, StringComparer.Ordinal),
            // The same statvfs reading the replica probe takes for its failure modes (DiskSpace): one reader, two users.
            Disk = DiskSpace.Read(_dataDirectory),
            SharedTables = shared,
        };
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static Task<IReadOnlyList<T>> ReadAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> map, CancellationToken ct,
        params (string Name, object Value)[] parameters) =>
        InspectorDataSource.ReadAsync(connection, sql, map, ct, parameters);
}
