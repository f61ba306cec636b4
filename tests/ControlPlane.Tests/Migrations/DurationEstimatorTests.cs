using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>Duration classes from impact and a target's table sizes (the seam the grain fills with live numbers).</summary>
public sealed class DurationEstimatorTests
{
    private sealed class Sizes(Dictionary<string, TableSize> sizes) : ITableSizes
    {
        public TableSize? Find(TableName table) => sizes.GetValueOrDefault(table.ToString());
    }

    private static StatementImpact Impact(string sql) => ImpactAnalyzer.Analyze(Assert.Single(SqlParser.Shared.Parse(sql).Statements));

    [Fact]
    public void A_catalog_only_statement_is_instant_whatever_the_size()
    {
        var sizes = new Sizes(new() { ["orders"] = new TableSize(1L << 40, 1_000_000_000) });

        Assert.Equal(DurationClass.Instant, DurationEstimator.Classify(Impact("ALTER TABLE orders ADD COLUMN a text"), sizes));
    }

    [Fact]
    public void A_rewrite_without_sizes_is_unknown()
    {
        Assert.Equal(DurationClass.Unknown, DurationEstimator.Classify(Impact("ALTER TABLE orders ALTER COLUMN a TYPE bigint"), null));
    }

    [Theory]
    [InlineData(10L * 1024 * 1024, DurationClass.Instant)]
    [InlineData(10L * 1024 * 1024 * 1024, DurationClass.Minutes)]
    [InlineData(1L * 1024 * 1024 * 1024, DurationClass.Seconds)]
    [InlineData(500L * 1024 * 1024 * 1024, DurationClass.Hours)]
    public void A_rewrite_is_classed_by_the_bytes_it_copies(long bytes, DurationClass expected)
    {
        var sizes = new Sizes(new() { ["orders"] = new TableSize(bytes, 0) });

        Assert.Equal(expected, DurationEstimator.Classify(Impact("ALTER TABLE orders ALTER COLUMN a TYPE bigint"), sizes));
    }

    [Fact]
    public void The_plan_classifies_each_statement_of_the_pending_versions_only()
    {
        var set = MigrationSets.Parsed(("V1__a.sql", "CREATE TABLE orders (id bigint);"), ("V2__b.sql", "CREATE INDEX i ON orders (id);\nSELECT 1;"));

        var plan = MigrationPlanner.Plan(set, [2L], new Sizes(new() { ["orders"] = new TableSize(2L * 1024 * 1024 * 1024, 10) }));

        var migration = Assert.Single(plan);
        Assert.Equal((2L, LockLevel.Share), (migration.Version, migration.Lock));
        Assert.Equal([DurationClass.Seconds, DurationClass.Instant], migration.Statements.Select(s => s.Duration));
    }
}
