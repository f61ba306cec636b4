using ControlPlane.Grains.Tenants;
using Xunit;

namespace ControlPlane.Tests.Tenants;

public sealed class TenantEraseReportTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 14, 0, 0, TimeSpan.Zero);

    private static TierEraseReport Tier(string tier, long remaining = 0) =>
        new(tier, $"{tier}-1", [$"schema tenant_acme (2 table(s))", "role tenant_acme"], [new("tenant_acme.orders", 12, 0)], false, false, remaining);

    [Fact]
    public void The_digest_covers_every_fact_and_not_the_order_tiers_were_erased_in()
    {
        var a = TenantEraseReports.Seal("acme", At, [Tier("oltp"), Tier("content")]);
        var b = TenantEraseReports.Seal("acme", At, [Tier("content"), Tier("oltp")]);
        var c = TenantEraseReports.Seal("acme", At, [Tier("content"), Tier("oltp", remaining: 1)]);
        Assert.Equal(a.Digest, b.Digest);
        Assert.NotEqual(a.Digest, c.Digest);
        Assert.StartsWith("sha256:", a.Digest, StringComparison.Ordinal);
        Assert.Equal(71, a.Digest.Length);
    }

    [Fact]
    public void A_report_is_verified_only_when_no_schema_role_or_row_remains_on_any_tier()
    {
        Assert.True(TenantEraseReports.Seal("acme", At, [Tier("oltp")]).Verified);
        Assert.False(TenantEraseReports.Seal("acme", At, [Tier("oltp"), Tier("content", remaining: 3)]).Verified);
        Assert.False(TenantEraseReports.Seal("acme", At, [Tier("oltp") with { RoleRemains = true }]).Verified);
    }
}
