using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using NpgsqlTypes;

namespace ControlPlane.Postgres.Backups;

/// <summary>Named restore points: a WAL record a point-in-time restore can stop at exactly.</summary>
public static class RestorePoints
{
    private const string CreateSql = "SELECT pg_create_restore_point($1)";

    /// <summary>Creates <paramref name="name"/> on the primary; answers its WAL location.</summary>
    public static async Task<ulong> CreateAsync(ReplicaEndpoint primary, string name, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        var lsn = (NpgsqlLogSequenceNumber)(await AdminSql.ScalarAsync(connection, CreateSql, ct, name).ConfigureAwait(false))!;
        return (ulong)lsn;
    }
}
