using System.Security.Cryptography;
using System.Text;
using ControlPlane.Migrations.Parity;
using Npgsql;

namespace ControlPlane.Postgres.Parity;

/// <summary>A schema snapshot of a schema the database does not have.</summary>
public sealed class SchemaNotFoundException(string schema) : Exception($"schema {schema} does not exist")
{
    public string Schema { get; } = schema;
}

/// <summary>
/// Reads pg_catalog into a <see cref="SchemaSnapshot"/>: one schema (definitions relative to it, so two schemas
/// of the same shape read the same) or, with an empty schema, every non-system schema (definitions fully qualified).
/// All queries run in one read-only repeatable-read transaction, so the snapshot is one moment of the catalog.
/// </summary>
public static class SchemaSnapshotReader
{
    public static async Task<SchemaSnapshot> ReadAsync(NpgsqlConnection connection, string schema, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(schema);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        if (schema.Length > 0 && !await ScalarAsync<bool>(connection, transaction, ParitySql.SchemaExists, schema, ct).ConfigureAwait(false))
        {
            throw new SchemaNotFoundException(schema);
        }
        await ScalarAsync<string>(connection, transaction, ParitySql.SetSearchPath, schema, ct).ConfigureAwait(false);
        var reader = new Rows(connection, transaction, schema);
        var objects = new List<ISchemaObject>();
        objects.AddRange(await reader.ReadAsync(ParitySql.Schemas, r => new SchemaObject(r.GetString(0)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Extensions, r => new ExtensionObject(r.GetString(1), r.GetString(0), r.GetString(2)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Sequences, r => new SequenceObject(r.GetString(0), r.GetString(1), r.GetString(2),
            r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.GetBoolean(8), r.GetString(9)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Functions, Function, ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Tables, r => new TableObject(r.GetString(0), r.GetString(1), r.GetBoolean(2), r.GetBoolean(3)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Columns, r => new ColumnObject(r.GetString(0), r.GetString(1), r.GetString(2),
            r.GetString(3), r.GetBoolean(4), r.GetString(5), r.GetString(6), r.GetString(7)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Constraints, r => new ConstraintObject(r.GetString(0), r.GetString(1), r.GetString(2),
            r.GetString(3), WithoutNotValid(r.GetString(4)), r.GetBoolean(5)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Indexes, r => new IndexObject(r.GetString(0), r.GetString(1), r.GetString(2),
            Relative(schema, r.GetString(3), r.GetString(5), r.GetString(6)), r.GetBoolean(4)), ct).ConfigureAwait(false));
        var dependencies = (await reader.ReadAsync(ParitySql.ViewDependencies, r => (View: $"{r.GetString(0)}.{r.GetString(1)}", On: r.GetString(2)), ct).ConfigureAwait(false))
            .ToLookup(d => d.View, d => d.On);
        objects.AddRange(await reader.ReadAsync(ParitySql.Views, r => new ViewObject(r.GetString(0), r.GetString(1), r.GetBoolean(2),
            ViewBody(r.GetString(3)), string.Join(';', dependencies[$"{r.GetString(0)}.{r.GetString(1)}"].Distinct().Order(StringComparer.Ordinal))), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Triggers, r => new TriggerObject(r.GetString(0), r.GetString(1), r.GetString(2),
            Relative(schema, r.GetString(3), r.GetString(6), r.GetString(7)), r.GetString(4), r.GetString(5)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Policies, r => new PolicyObject(r.GetString(0), r.GetString(1), r.GetString(2),
            r.GetString(3), r.GetBoolean(4), string.Join(',', r.GetFieldValue<string[]>(5).Order(StringComparer.Ordinal)), r.GetString(6), r.GetString(7)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Grants, r => new GrantObject(r.GetString(0), r.GetString(1), r.GetString(2),
            r.GetString(3), r.GetString(4), r.GetBoolean(5)), ct).ConfigureAwait(false));
        objects.AddRange(await reader.ReadAsync(ParitySql.Comments, r => new CommentObject(r.GetString(0), r.GetString(1), r.GetString(2),
            r.GetString(3), r.GetString(4)), ct).ConfigureAwait(false));
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return SchemaSnapshot.Create(schema, objects);
    }

    private static FunctionObject Function(NpgsqlDataReader r)
    {
        var body = r.GetString(11);
        var volatility = r.GetString(7) switch { "i" => "immutable", "s" => "stable", _ => "volatile" };
        return new FunctionObject(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetBoolean(4), r.GetString(5),
            r.GetString(6), volatility, r.GetBoolean(8), r.GetBoolean(9), r.GetBoolean(10), body,
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body))));
    }

    // pg_get_constraintdef appends NOT VALID; the model keeps validity as its own field.
    private static string WithoutNotValid(string definition) =>
        definition.EndsWith(" NOT VALID", StringComparison.Ordinal) ? definition[..^" NOT VALID".Length] : definition;

    private static string ViewBody(string definition) => definition.Trim().TrimEnd(';');

    // pg_get_indexdef and pg_get_triggerdef qualify their table whatever the search_path: in a schema snapshot the
    // table is named bare, like every other definition, so the same shape in another schema reads the same.
    private static string Relative(string schema, string definition, string qualified, string bare)
    {
        if (schema.Length == 0) return definition;
        foreach (var on in new[] { " ON ONLY ", " ON " })
        {
            var at = definition.IndexOf(on + qualified + " ", StringComparison.Ordinal);
            if (at >= 0) return string.Concat(definition.AsSpan(0, at), on, bare, definition.AsSpan(at + on.Length + qualified.Length));
        }
        return definition;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, string schema, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue(schema);
        return (T)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    private sealed class Rows(NpgsqlConnection connection, NpgsqlTransaction transaction, string schema)
    {
        public async Task<List<T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> map, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue(schema);
            var rows = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows.Add(map(reader));
            return rows;
        }
    }
}
