using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Tenants;

/// <summary>
/// Reads <see cref="IsolationFacts"/> from a tier's primary as the control plane's admin: one short connection, one
/// read-only repeatable-read transaction, so every fact comes from the same snapshot. Only the catalog is read, never a
/// tenant's rows.
/// </summary>
public static class IsolationFactsReader
{
    public static async Task<IsolationFacts> ReadAsync(ReplicaEndpoint primary, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        return await ReadAsync(connection, ct).ConfigureAwait(false);
    }

    /// <summary>The facts over an open connection (the bench brings its own); the connection's role is the admin the rules exempt.</summary>
    public static async Task<IsolationFacts> ReadAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await Execute(connection, IsolationSql.Begin, ct).ConfigureAwait(false);
        var admin = (string)(await AdminSql.ScalarAsync(connection, IsolationSql.AdminRole, ct).ConfigureAwait(false))!;
        var schemas = await RowsAsync(connection, IsolationSql.Schemas, r => new FactSchema(r.GetString(0), r.GetString(1)), ct).ConfigureAwait(false);
        var tables = await RowsAsync(connection, IsolationSql.Tables, r => new FactTable(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), r.GetBoolean(4), r.GetBoolean(5), r.GetBoolean(6), r.GetBoolean(7)), ct).ConfigureAwait(false);
        var policies = await RowsAsync(connection, IsolationSql.Policies, r => new FactPolicy(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetBoolean(3), r.GetString(4), r.GetFieldValue<string[]>(5),
            r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7)), ct).ConfigureAwait(false);
        var roles = await RowsAsync(connection, IsolationSql.Roles, r => new FactRole(
            r.GetString(0), r.GetBoolean(1), r.GetBoolean(2), r.GetBoolean(3), r.GetBoolean(4), r.GetBoolean(5), r.GetBoolean(6), r.GetFieldValue<string[]>(7)), ct).ConfigureAwait(false);
        var grants = await RowsAsync(connection, IsolationSql.Grants, Grant, ct).ConfigureAwait(false);
        var functions = await RowsAsync(connection, IsolationSql.Functions, r => new FactFunction(
            r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetBoolean(4), r.GetBoolean(5), r.GetBoolean(6)), ct).ConfigureAwait(false);
        var viewRows = await RowsAsync(connection, IsolationSql.Views, r => (
            Schema: r.GetString(0), Name: r.GetString(1), Owner: r.GetString(2), Materialized: r.GetBoolean(3), Invoker: r.GetBoolean(4), Table: r.GetString(5)), ct).ConfigureAwait(false);
        var views = viewRows.GroupBy(v => (v.Schema, v.Name, v.Owner, v.Materialized, v.Invoker))
            .Select(g => new FactView(g.Key.Schema, g.Key.Name, g.Key.Owner, g.Key.Materialized, g.Key.Invoker, [.. g.Select(v => v.Table)])).ToList();
        var sequenceRows = await RowsAsync(connection, IsolationSql.Sequences, r => (Schema: r.GetString(0), Name: r.GetString(1), Table: r.GetString(2)), ct).ConfigureAwait(false);
        var sequences = sequenceRows.GroupBy(s => (s.Schema, s.Name))
            .Select(g => new FactSequence(g.Key.Schema, g.Key.Name, [.. g.Select(s => s.Table).Distinct(StringComparer.Ordinal)])).ToList();
        var (count, compat) = (await RowsAsync(connection, IsolationSql.LargeObjects, r => (r.GetInt64(0), r.GetBoolean(1)), ct).ConfigureAwait(false))[0];
        var loGrants = count == 0 ? [] : await RowsAsync(connection, IsolationSql.LargeObjectGrants, Grant, ct).ConfigureAwait(false);
        await Execute(connection, "COMMIT", ct).ConfigureAwait(false);
        return new IsolationFacts(admin, schemas, tables, policies, roles, grants, functions, views, sequences, new FactLargeObjects(count, compat, loGrants));
    }

    private static FactGrant Grant(NpgsqlDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5));

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task<List<T>> RowsAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> map, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(map(reader));
        return rows;
    }
}
