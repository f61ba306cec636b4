using ControlPlane.Migrations.Parity;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Parity;

/// <summary>A snapshot of a database the replica does not have.</summary>
public sealed class DatabaseNotFoundException(string database) : Exception($"database {database} does not exist")
{
    public string Database { get; } = database;
}

/// <summary>
/// Opens one short connection to a replica (any of its databases) for one snapshot: named in pg_stat_activity, every
/// command bounded by the timeout, no pool left behind.
/// </summary>
public static class SchemaSnapshotSession
{
    public const string ApplicationName = "controlplane-parity";

    /// <summary>
    /// The snapshot of <paramref name="schema"/> (empty: every non-system schema) of <paramref name="database"/>
    /// (empty: the replica's own database). <see cref="DatabaseNotFoundException"/>, <see cref="SchemaNotFoundException"/>
    /// for what does not exist; NpgsqlException or a timeout when the instance does not answer.
    /// </summary>
    public static async Task<SchemaSnapshot> ReadAsync(ReplicaEndpoint endpoint, string database, string schema, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var seconds = (int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
        var builder = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(endpoint, database.Length > 0 ? database : null))
        {
            ApplicationName = ApplicationName,
            Timeout = Math.Min(seconds, 60),
            CommandTimeout = seconds,
            CancellationTimeout = -1,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new DatabaseNotFoundException(builder.Database ?? database);
        }
        return await SchemaSnapshotReader.ReadAsync(connection, schema, ct).ConfigureAwait(false);
    }
}
