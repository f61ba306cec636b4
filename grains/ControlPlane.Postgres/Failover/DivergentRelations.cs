using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;
using NpgsqlTypes;

namespace ControlPlane.Postgres.Failover;

/// <summary>
/// Names the relation files of divergent WAL records on the new primary: a relfilenode is the same there as on the old
/// primary unless the relation was rewritten (TRUNCATE, VACUUM FULL, CLUSTER) or created after the fork, and then it
/// stays unnamed (<c>rel spc/db/filenode</c>). Best effort: a database it cannot open leaves its files unnamed.
/// </summary>
internal static class DivergentRelations
{
    private const string DatabaseNames = "SELECT oid::bigint, datname FROM pg_database WHERE oid = ANY($1::oid[])";

    // pg_filenode_relation wants 0 for the database's default tablespace; a relation it does not know is NULL.
    private const string RelationNames = """
        SELECT n::bigint, pg_filenode_relation($1::oid, n)::regclass::text
        FROM unnest($2::oid[]) AS n
        WHERE pg_filenode_relation($1::oid, n) IS NOT NULL
        """;

    public static async Task<IReadOnlyDictionary<RelFileNode, string>> NameAsync(ReplicaEndpoint primary, IEnumerable<RelFileNode> files, CancellationToken ct)
    {
        var wanted = files.Distinct().ToList();
        var names = new Dictionary<RelFileNode, string>();
        if (wanted.Count == 0) return names;
        var databases = new Dictionary<uint, string>();
        await using (var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false))
        await using (var cmd = new NpgsqlCommand(DatabaseNames, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds })
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = wanted.Select(f => (long)f.Database).Distinct().ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) databases[(uint)reader.GetInt64(0)] = reader.GetString(1);
        }
        foreach (var (oid, datname) in databases)
        {
            try
            {
                await using var connection = await AdminSql.OpenAsync(AdminSql.ConnectionString(primary, datname), ct).ConfigureAwait(false);
                foreach (var bySpace in wanted.Where(f => f.Database == oid).GroupBy(f => f.Tablespace))
                {
                    await using var cmd = new NpgsqlCommand(RelationNames, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
                    cmd.Parameters.Add(new NpgsqlParameter { Value = bySpace.Key == RelFileNode.DefaultTablespace ? 0L : bySpace.Key, NpgsqlDbType = NpgsqlDbType.Bigint });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = bySpace.Select(f => (long)f.FileNode).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                    await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        names[new RelFileNode(bySpace.Key, oid, (uint)reader.GetInt64(0))] = $"{datname}/{reader.GetString(1)}";
                    }
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // Unnamed files are reported by their numbers; the saved WAL holds everything anyway.
            }
        }
        return names;
    }
}
