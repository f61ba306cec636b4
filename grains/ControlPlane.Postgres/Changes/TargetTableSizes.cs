using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Changes;

/// <summary>
/// The sizes of the tables in a change's target schemas, read once from the tier's primary when the change is
/// submitted, so its plan classes each scan or rewrite by what it would read. One plan serves every target, so an
/// unqualified table is as large as its largest copy among the targets: the class a reviewer sees is the worst batch.
/// </summary>
public sealed class TargetTableSizes : ITableSizes
{
    private const string Sql = """
        SELECT n.nspname, c.relname, pg_total_relation_size(c.oid), greatest(c.reltuples, 0)::bigint
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname = ANY($1)
        """;

    private readonly Dictionary<(string Schema, string Name), TableSize> _bySchema;
    private readonly Dictionary<string, TableSize> _largest;

    public TargetTableSizes(IEnumerable<(string Schema, string Name, TableSize Size)> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        _bySchema = [];
        _largest = new Dictionary<string, TableSize>(StringComparer.Ordinal);
        foreach (var (schema, name, size) in tables)
        {
            _bySchema[(schema, name)] = size;
            if (!_largest.TryGetValue(name, out var known) || known.Bytes < size.Bytes) _largest[name] = size;
        }
    }

    /// <summary>Tables measured, across all target schemas.</summary>
    public int Count => _bySchema.Count;

    public TableSize? Find(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table.Schema.Length > 0
            ? _bySchema.GetValueOrDefault((table.Schema, table.Name))
            : _largest.GetValueOrDefault(table.Name);
    }

    public static async Task<TargetTableSizes> ReadAsync(ReplicaEndpoint primary, IReadOnlyList<string> schemas, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(schemas);
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(Sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        cmd.Parameters.Add(new NpgsqlParameter { Value = schemas.ToArray() });
        var tables = new List<(string, string, TableSize)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
            tables.Add((reader.GetString(0), reader.GetString(1), new TableSize(reader.GetInt64(2), reader.GetInt64(3))));
        return new TargetTableSizes(tables);
    }
}
