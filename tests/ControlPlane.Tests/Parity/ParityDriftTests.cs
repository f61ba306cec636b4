using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Parity;
using ControlPlane.Migrations.Parity;
using Xunit;

namespace ControlPlane.Tests.Parity;

public sealed class ParityDriftTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

    private static SchemaSnapshot Orders(string schema, string regionType) => SchemaSnapshot.Create(schema,
    [
        new SchemaObject(schema),
        new TableObject(schema, "orders", false, false),
        new ColumnObject(schema, "orders", "id", "bigint", true, "", "", ""),
        new ColumnObject(schema, "orders", "region", regionType, false, "", "", ""),
    ]);

    [Fact]
    public void A_tenant_schema_shaped_like_the_template_has_no_differences_whatever_its_name()
    {
        var result = ParityDrift.Compare("tenant_acme", Orders("tenant_acme", "text"), Orders("tenant_template", "text"), 20);

        Assert.Equal(new SchemaDriftResult("tenant_acme", 0, [], ""), result with { Summary = [] });
        Assert.Empty(result.Summary);
    }

    [Fact]
    public void A_changed_column_type_is_one_difference_read_as_what_the_tenant_should_become()
    {
        var result = ParityDrift.Compare("tenant_acme", Orders("tenant_acme", "character varying(10)"), Orders("tenant_template", "text"), 20);

        Assert.Equal(1, result.Differences);
        Assert.Equal("~ column tenant_acme.orders.region: type character varying(10) -> text", Assert.Single(result.Summary));
    }

    [Fact]
    public void A_drifted_schema_is_reported_breached_and_a_matching_one_reads_zero()
    {
        var report = Report(new SchemaDriftResult("tenant_a", 2, [], ""), new SchemaDriftResult("tenant_b", 0, [], ""));

        var (readings, breached) = ParityDrift.Readings(report, [], Now);

        Assert.All(readings, r => Assert.Equal(MonitoringMetrics.SchemaDriftDifferences, r.Metric));
        Assert.Equal([("tenant_a", 2d), ("tenant_b", 0d)], readings.Select(r => (r.Labels["schema"], r.Value)));
        Assert.Equal("tenant_a", Assert.Single(breached)["schema"]);
    }

    [Fact]
    public void A_fixed_schema_resolves_and_one_no_longer_listed_reads_zero()
    {
        var alerted = new List<Dictionary<string, string>> { ParityDrift.Labels("oltp", "tenant_a"), ParityDrift.Labels("oltp", "tenant_gone") };

        var (readings, breached) = ParityDrift.Readings(Report(new SchemaDriftResult("tenant_a", 0, [], "")), alerted, Now);

        Assert.Empty(breached);
        Assert.Equal([("tenant_a", 0d), ("tenant_gone", 0d)], readings.Select(r => (r.Labels["schema"], r.Value)));
    }

    [Fact]
    public void A_check_that_could_not_run_or_a_schema_that_could_not_be_read_keeps_its_alert()
    {
        var alerted = new List<Dictionary<string, string>> { ParityDrift.Labels("oltp", "tenant_a") };

        var failed = ParityDrift.Readings(Report() with { Error = "primary unreachable" }, alerted, Now);
        var unreadable = ParityDrift.Readings(Report(new SchemaDriftResult("tenant_a", 0, [], "schema tenant_a does not exist")), alerted, Now);

        Assert.Empty(failed.Readings);
        Assert.Single(failed.Breached);
        Assert.Empty(unreadable.Readings);
        Assert.Single(unreadable.Breached);
    }

    private static TierDriftReport Report(params SchemaDriftResult[] schemas) =>
        new("local", "oltp", Now, "tenant_template", true, "h", schemas, "", Scheduled: true);
}
