using ControlPlane.IntegrationTests.Postgres;
using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;
using ControlPlane.Postgres.Instances;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Migrations;

/// <summary>
/// The impact analysis checked against a real PostgreSQL 15: each statement runs in a transaction on a fresh table,
/// and pg_locks shows the strongest lock the server holds on it, which must be the lock the analysis predicted.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ImpactOnPostgresTests(PostgresPairFixture pair)
{
    [Theory]
    [InlineData("CREATE INDEX {0}_a_idx ON {0} (a)")]
    [InlineData("ALTER TABLE {0} ADD COLUMN c text")]
    [InlineData("ALTER TABLE {0} ADD COLUMN c text NOT NULL DEFAULT 'eu'")]
    [InlineData("ALTER TABLE {0} ADD CONSTRAINT {0}_fk FOREIGN KEY (p) REFERENCES {0} (id) NOT VALID")]
    [InlineData("ALTER TABLE {0} VALIDATE CONSTRAINT {0}_check")]
    [InlineData("ALTER TABLE {0} SET (fillfactor = 90)")]
    [InlineData("ALTER TABLE {0} ALTER COLUMN a SET NOT NULL")]
    [InlineData("ALTER TABLE {0} ALTER COLUMN a TYPE varchar(20)")]
    [InlineData("ALTER TABLE {0} DISABLE TRIGGER ALL")]
    [InlineData("ALTER TABLE {0} RENAME COLUMN a TO b")]
    [InlineData("TRUNCATE {0}")]
    [InlineData("LOCK TABLE {0} IN SHARE ROW EXCLUSIVE MODE")]
    [InlineData("UPDATE {0} SET a = 'x'")]
    [InlineData("REINDEX TABLE {0}")]
    [InlineData("CREATE TRIGGER {0}_trg BEFORE UPDATE ON {0} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()")]
    public async Task The_predicted_lock_is_the_strongest_lock_postgresql_holds(string template)
    {
        var table = $"impact_{(uint)template.GetHashCode(StringComparison.Ordinal):x8}";
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, table);
        var predicted = ImpactAnalyzer.Analyze(Assert.Single(SqlParser.Shared.Parse(sql).Statements))
            .Locks.Where(l => l.Table.Name == table).Max(l => l.Level);

        await using var connection = new NpgsqlConnection(AdminSql.ConnectionString(pair.Primary.Endpoint));
        await connection.OpenAsync();
        await ExecuteAsync(connection,
            $"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id bigint PRIMARY KEY, p bigint, a text); " +
            $"INSERT INTO {table} SELECT g, NULL, 'v' FROM generate_series(1, 100) g; " +
            $"ALTER TABLE {table} ADD CONSTRAINT {table}_check CHECK (a <> '') NOT VALID;");
        await using var transaction = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, sql);
        await using var locks = new NpgsqlCommand(
            "SELECT mode FROM pg_locks WHERE locktype = 'relation' AND pid = pg_backend_pid() AND relation = $1::regclass", connection);
        locks.Parameters.AddWithValue(table);
        var held = new List<LockLevel>();
        await using (var reader = await locks.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) held.Add(Enum.Parse<LockLevel>(reader.GetString(0).Replace("Lock", "", StringComparison.Ordinal)));
        }
        await transaction.RollbackAsync();

        Assert.Equal(predicted, held.Max());
    }

    [Fact]
    public async Task The_documented_example_set_applies_on_postgresql_as_its_directives_say()
    {
        var set = MigrationSetLoader.FromDirectory(ExampleSet("oltp"));
        await using var connection = new NpgsqlConnection(AdminSql.ConnectionString(pair.Primary.Endpoint));
        await connection.OpenAsync();
        await ExecuteAsync(connection, "DROP SCHEMA IF EXISTS example_oltp CASCADE; CREATE SCHEMA example_oltp; SET search_path = example_oltp;");

        foreach (var migration in set.Migrations)
        {
            if (migration.Forward.Transactional)
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await ExecuteAsync(connection, migration.Forward.Sql);
                await transaction.CommitAsync();
            }
            else
            {
                foreach (var statement in SqlParser.Shared.Parse(migration.Forward.Sql).Statements)
                {
                    await ExecuteAsync(connection, statement.Text);
                }
            }
        }

        await using var check = new NpgsqlCommand(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'example_oltp' AND indexname = 'orders_customer_idx'", connection);
        Assert.Equal(1L, await check.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Concurrently_inside_a_transaction_fails_on_postgresql_as_cp003_says()
    {
        await using var connection = new NpgsqlConnection(AdminSql.ConnectionString(pair.Primary.Endpoint));
        await connection.OpenAsync();
        await ExecuteAsync(connection, "DROP TABLE IF EXISTS impact_cp003; CREATE TABLE impact_cp003 (a int);");
        await using var transaction = await connection.BeginTransactionAsync();

        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "CREATE INDEX CONCURRENTLY impact_cp003_idx ON impact_cp003 (a)"));

        Assert.Equal("25001", error.SqlState);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static string ExampleSet(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("ControlPlane.sln"), "docs", "examples", "migrations", name);
    }
}
