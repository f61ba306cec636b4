using ControlPlane.IntegrationTests.Postgres.Failover;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

[Collection(DrillPrimaryCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class DrillChecksTests(DrillPrimaryFixture fixture)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private ReplicaEndpoint Primary => fixture.Primary.Endpoint;

    [Fact]
    public async Task Every_drill_check_passes_on_a_healthy_instance()
    {
        var expected = await TableWithRowsAsync("drill_healthy", 3);

        var checks = await DrillChecks.RunAsync(Primary, expected, null, None);

        Assert.Equal([DrillChecks.Starts, DrillChecks.Catalog, DrillChecks.RowCounts, DrillChecks.Amcheck], checks.Select(c => c.Name));
        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
    }

    [Fact]
    public async Task Row_count_check_names_each_mismatch_with_both_counts()
    {
        var actual = await TableWithRowsAsync("drill_short", 3);

        var checks = await DrillChecks.RunAsync(Primary, [actual[0] with { Rows = 5 }], new PgBinaries(EmptyDirectory()), None);

        var rowCounts = checks.Single(c => c.Name == DrillChecks.RowCounts);
        Assert.False(rowCounts.Passed);
        Assert.Equal("postgres.public.drill_short expected 5 found 3", rowCounts.Detail);
    }

    [Fact]
    public async Task Amcheck_runs_pg_amcheck_which_installs_the_extension_it_needs()
    {
        var checks = await DrillChecks.RunAsync(Primary, [], null, None);

        var amcheck = checks.Single(c => c.Name == DrillChecks.Amcheck);
        Assert.True(amcheck.Passed, amcheck.Detail);
        Assert.NotEqual(DrillChecks.AmcheckSkipped, amcheck.Detail);
        Assert.Equal(1L, await Sql.ScalarAsync(Primary, "SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'"));
    }

    [Fact]
    public async Task Amcheck_is_skipped_and_passes_when_pg_amcheck_is_not_installed()
    {
        var checks = await DrillChecks.RunAsync(Primary, [], new PgBinaries(EmptyDirectory()), None);

        var amcheck = checks.Single(c => c.Name == DrillChecks.Amcheck);
        Assert.True(amcheck.Passed);
        Assert.Equal(DrillChecks.AmcheckSkipped, amcheck.Detail);
    }

    [Fact]
    public async Task Catalog_check_reports_an_invalid_index_by_database_and_name()
    {
        await Sql.ScalarAsync(Primary, "DROP TABLE IF EXISTS drill_dupes; CREATE TABLE drill_dupes (v int); INSERT INTO drill_dupes VALUES (1), (1)");
        // A unique index built concurrently over duplicates fails and stays behind, invalid.
        await Assert.ThrowsAsync<PostgresException>(() => Sql.ScalarAsync(Primary, "CREATE UNIQUE INDEX CONCURRENTLY drill_dupes_v ON drill_dupes (v)"));
        try
        {
            var checks = await DrillChecks.RunAsync(Primary, [], new PgBinaries(EmptyDirectory()), None);

            var catalog = checks.Single(c => c.Name == DrillChecks.Catalog);
            Assert.False(catalog.Passed);
            Assert.Equal("postgres: invalid index public.drill_dupes_v", catalog.Detail);
        }
        finally
        {
            await Sql.ScalarAsync(Primary, "DROP TABLE drill_dupes");
        }
    }

    private async Task<IReadOnlyList<TableCount>> TableWithRowsAsync(string table, int rows)
    {
        await Sql.ScalarAsync(Primary, $"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (v int); INSERT INTO {table} SELECT generate_series(1, {rows})");
        return [new TableCount("postgres", $"public.{table}", rows)];
    }

    private string EmptyDirectory() => Directory.CreateDirectory(Path.Combine(fixture.Root, "no-binaries")).FullName;
}
