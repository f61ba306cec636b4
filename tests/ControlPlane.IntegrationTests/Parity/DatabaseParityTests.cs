using ControlPlane.IntegrationTests.Postgres;
using ControlPlane.Migrations.Parity;
using ControlPlane.Postgres.Instances;
using ControlPlane.Postgres.Parity;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Parity;

/// <summary>
/// Whole-database snapshots on a real PostgreSQL 15: extensions (per database, so each case has its own two
/// databases), definitions qualified by schema, and the reader's refusal of a schema that does not exist.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class DatabaseParityTests(PostgresPairFixture pair)
{
    [Theory]
    [InlineData("", "CREATE EXTENSION citext VERSION '1.4'; CREATE SCHEMA app; CREATE TABLE app.notes (id bigint PRIMARY KEY, body public.citext)")]
    [InlineData("CREATE EXTENSION citext VERSION '1.4'", "CREATE EXTENSION citext VERSION '1.6'")]
    [InlineData("CREATE EXTENSION citext VERSION '1.4'; CREATE SCHEMA app; CREATE TABLE app.notes (body public.citext)", "")]
    public async Task A_database_reconciles_extensions_and_schemas_to_its_target(string sqlA, string sqlB)
    {
        var name = $"parity_db_{(uint)(sqlA + "|" + sqlB).GetHashCode(StringComparison.Ordinal):x8}";
        await using var a = await DatabaseAsync(name + "_a", sqlA);
        await using var b = await DatabaseAsync(name + "_b", sqlB);

        var plan = ReconcilePlanner.Plan(
            await SchemaSnapshotReader.ReadAsync(a, "", CancellationToken.None), await SchemaSnapshotReader.ReadAsync(b, "", CancellationToken.None));
        Assert.NotEmpty(plan.Statements);
        Assert.Contains(plan.Statements, s => s.Kind == ObjectKind.Extension);
        await ReconcileOnPostgresTests.RunAsync(a, [.. plan.Preamble, .. plan.Statements.Select(s => s.Sql)]);
        await ReconcileOnPostgresTests.ExecuteAsync(a, "RESET search_path; RESET check_function_bodies");

        var left = SchemaDiff.Compare(await SchemaSnapshotReader.ReadAsync(a, "", CancellationToken.None), await SchemaSnapshotReader.ReadAsync(b, "", CancellationToken.None));
        Assert.True(left.Count == 0, $"still different:\n{string.Join('\n', left)}\n--- script\n{plan.Script()}");
    }

    [Fact]
    public async Task Dropping_an_extension_is_flagged_as_data_loss()
    {
        await using var a = await DatabaseAsync("parity_ext_drop_a", "CREATE EXTENSION citext");
        await using var b = await DatabaseAsync("parity_ext_drop_b", "");

        var plan = ReconcilePlanner.Plan(
            await SchemaSnapshotReader.ReadAsync(a, "", CancellationToken.None), await SchemaSnapshotReader.ReadAsync(b, "", CancellationToken.None));

        var drop = Assert.Single(plan.Statements);
        Assert.Equal("DROP EXTENSION citext", drop.Sql);
        Assert.True(drop.DataLoss);
    }

    [Fact]
    public async Task A_snapshot_of_a_schema_that_does_not_exist_is_refused_naming_it()
    {
        await using var connection = new NpgsqlConnection(AdminSql.ConnectionString(pair.Primary.Endpoint));
        await connection.OpenAsync();

        var e = await Assert.ThrowsAsync<SchemaNotFoundException>(() => SchemaSnapshotReader.ReadAsync(connection, "no_such_schema", CancellationToken.None));

        Assert.Equal("schema no_such_schema does not exist", e.Message);
    }

    private async Task<NpgsqlConnection> DatabaseAsync(string database, string sql)
    {
        await using (var admin = new NpgsqlConnection(AdminSql.ConnectionString(pair.Primary.Endpoint)))
        {
            await admin.OpenAsync();
            await ReconcileOnPostgresTests.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {database}");
            await ReconcileOnPostgresTests.ExecuteAsync(admin, $"CREATE DATABASE {database}");
        }
        var connection = new NpgsqlConnection(AdminSql.ConnectionString(pair.Primary.Endpoint, database));
        await connection.OpenAsync();
        if (sql.Length > 0) await ReconcileOnPostgresTests.ExecuteAsync(connection, sql);
        return connection;
    }
}
