using ControlPlane.IntegrationTests.Postgres;
using ControlPlane.Migrations.Parity;
using ControlPlane.Postgres.Instances;
using ControlPlane.Postgres.Parity;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Parity;

/// <summary>
/// The reconcile proof on a real PostgreSQL 15: for each generated pair, schema A and schema B are created side by
/// side, A is snapshotted, the planned script is run on A, and A's new snapshot must equal B's (after moving B's
/// objects into A's schema name). Every case gets its own two schemas in the shared server.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ReconcileOnPostgresTests(PostgresPairFixture pair)
{
    public const int Cases = 220;

    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, Cases).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Applying_the_reconcile_script_to_a_gives_a_snapshot_equal_to_b(int seed)
    {
        var (schemaA, schemaB) = ($"parity_a_{seed}", $"parity_b_{seed}");
        var (sqlA, sqlB) = SchemaPairGen.Pair(seed, schemaA, schemaB);
        await using var connection = await OpenAsync();
        await CreateAsync(connection, schemaA, sqlA);
        await CreateAsync(connection, schemaB, sqlB);

        var a = await SchemaSnapshotReader.ReadAsync(connection, schemaA, CancellationToken.None);
        var b = await SchemaSnapshotReader.ReadAsync(connection, schemaB, CancellationToken.None);
        var plan = ReconcilePlanner.Plan(a, b);
        var script = plan.Script();
        try
        {
            await RunAsync(connection, [.. plan.Preamble, .. plan.Statements.Select(s => s.Sql)]);
        }
        catch (PostgresException e)
        {
            throw new Xunit.Sdk.XunitException($"the script failed: {e.MessageText}\n--- A\n{string.Join(";\n", sqlA)}\n--- B\n{string.Join(";\n", sqlB)}\n--- script\n{script}");
        }
        await ExecuteAsync(connection, "RESET search_path; RESET check_function_bodies");
        var after = await SchemaSnapshotReader.ReadAsync(connection, schemaA, CancellationToken.None);

        var left = SchemaDiff.Compare(after, b);
        Assert.True(left.Count == 0,
            $"after the script A still differs from B:\n{string.Join('\n', left)}\n--- A\n{string.Join(";\n", sqlA)}\n--- B\n{string.Join(";\n", sqlB)}\n--- script\n{script}");
        Assert.Equal(b.InSchema(schemaA).Hash(), after.Hash());
        Assert.Empty(ReconcilePlanner.Plan(after, b).Statements);
        await ExecuteAsync(connection, $"DROP SCHEMA {schemaA} CASCADE; DROP SCHEMA {schemaB} CASCADE;");
    }

    [Fact]
    public async Task The_generated_pairs_cover_every_object_kind()
    {
        var kinds = new HashSet<ObjectKind>();
        for (var seed = 1; seed <= 40; seed++)
        {
            var (sqlA, _) = SchemaPairGen.Pair(seed, "parity_cover", "unused");
            await using var connection = await OpenAsync();
            await CreateAsync(connection, "parity_cover", sqlA);
            var snapshot = await SchemaSnapshotReader.ReadAsync(connection, "parity_cover", CancellationToken.None);
            kinds.UnionWith(snapshot.Objects.Select(o => o.Kind));
            await ExecuteAsync(connection, "DROP SCHEMA parity_cover CASCADE");
        }
        // Extensions are per database: DatabaseParityTests covers them.
        Assert.Equal(Enum.GetValues<ObjectKind>().Except([ObjectKind.Extension]).Order(), kinds.Order());
    }

    private async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(AdminSql.ConnectionString(pair.Primary.Endpoint));
        await connection.OpenAsync();
        await ExecuteAsync(connection, string.Concat(SchemaPairGen.Roles.Select(r =>
            $"DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{r}') THEN CREATE ROLE {r}; END IF; END$$;")));
        return connection;
    }

    internal static async Task CreateAsync(NpgsqlConnection connection, string schema, IReadOnlyList<string> statements)
    {
        await ExecuteAsync(connection, $"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
        await RunAsync(connection, [$"SET search_path = {schema}", .. statements]);
        await ExecuteAsync(connection, "RESET search_path; RESET check_function_bodies");
    }

    /// <summary>The statements in one transaction, each sent as it is (a batch command is never split at its semicolons).</summary>
    internal static async Task RunAsync(NpgsqlConnection connection, IEnumerable<string> statements)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var sql in statements) batch.BatchCommands.Add(new NpgsqlBatchCommand(sql));
        await batch.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
