using ControlPlane.Cli.Parity;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class ParityRenderingTests
{
    [Fact]
    public void A_diff_lists_each_difference_on_its_own_line_under_a_count()
    {
        var report = new SchemaDiffReport { A = "oltp/postgres/tenant_acme", B = "oltp/postgres/tenant_template", Equal = false };
        report.Differences.Add(new SchemaDifference { Text = "+ column tenant_acme.orders.note" });
        report.Differences.Add(new SchemaDifference { Text = "~ column tenant_acme.orders.region: type character varying(10) -> text" });
        report.Statements.Add(new ReconcileStatement { Sql = "ALTER TABLE orders ADD COLUMN note text" });

        var text = ParityRendering.Diff(report);

        Assert.Equal(
            "oltp/postgres/tenant_acme -> oltp/postgres/tenant_template: 2 difference(s), 1 statement(s) to reconcile\n" +
            "  + column tenant_acme.orders.note\n" +
            "  ~ column tenant_acme.orders.region: type character varying(10) -> text\n" +
            "(--script prints the SQL that turns A into B)\n", text);
    }

    [Fact]
    public void Equal_schemas_say_so_with_their_hash()
    {
        var text = ParityRendering.Diff(new SchemaDiffReport { A = "a", B = "b", Equal = true, AHash = "abc" });

        Assert.Equal("a and b are equal (sha256 abc)\n", text);
    }

    [Fact]
    public void A_tier_status_names_the_verdict_and_each_drifted_schema_with_its_first_differences()
    {
        var drift = new TierDrift
        {
            Tier = "oltp", CheckedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 12, 7, 0, 10, 0, TimeSpan.Zero)), Scheduled = true,
            Template = "tenant_template", TemplateFound = true, Drift = true,
        };
        drift.Schemas.Add(new SchemaDrift { Schema = "tenant_a" });
        var b = new SchemaDrift { Schema = "tenant_b", Differences = 1 };
        b.Summary.Add("- index tenant_b.orders_region_idx");
        drift.Schemas.Add(b);

        var text = ParityRendering.Tier(drift);

        Assert.Equal(
            "tier oltp: DRIFT, checked 2026-12-07 00:10:00Z (scheduled), template tenant_template (2 tenant schema(s))\n" +
            "  ok     tenant_a\n" +
            "  DRIFT  tenant_b: 1 difference(s) from tenant_template\n" +
            "           - index tenant_b.orders_region_idx\n", text);
        Assert.Equal("tier olap: not checked yet\n", ParityRendering.Tier(new TierDrift { Tier = "olap" }));
    }
}
