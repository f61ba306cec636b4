using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Postgres.Changes;
using Xunit;

namespace ControlPlane.Tests.Changes;

/// <summary>One plan for every target: an unqualified table is as large as its largest copy among the target schemas.</summary>
public sealed class TargetTableSizesTests
{
    private static readonly TargetTableSizes Sizes = new([
        ("tenant_a", "orders", new TableSize(10, 1)),
        ("tenant_b", "orders", new TableSize(5_000_000_000, 9)),
        ("tenant_a", "notes", new TableSize(7, 1)),
    ]);

    [Fact]
    public void An_unqualified_table_takes_the_size_of_its_largest_copy()
    {
        Assert.Equal(5_000_000_000, Sizes.Find(new TableName("", "orders"))!.Bytes);
        Assert.Equal(10, Sizes.Find(new TableName("tenant_a", "orders"))!.Bytes);
        Assert.Null(Sizes.Find(new TableName("", "absent")));
        Assert.Null(Sizes.Find(new TableName("tenant_b", "notes")));
    }

    [Fact]
    public void The_duration_class_follows_the_largest_copy()
    {
        var impact = ImpactAnalyzerFor("CREATE INDEX orders_at ON orders (id)");
        // 5 GB at the estimator's 50 MiB/s is about 95 s: minutes, not an instant.
        Assert.Equal(DurationClass.Minutes, DurationEstimator.Classify(impact, Sizes));
        Assert.Equal(DurationClass.Unknown, DurationEstimator.Classify(impact, null));
    }

    private static StatementImpact ImpactAnalyzerFor(string sql) =>
        ImpactAnalyzer.Analyze(Assert.Single(SqlParser.Shared.Parse(sql).Statements));
}
