using ControlPlane.Cli.Tenants;
using ControlPlane.Postgres.Tenants;
using ControlPlane.Protos.V1;
using Xunit;

namespace ControlPlane.Tests.Tenants;

public sealed class TenantArgumentsTests
{
    [Theory]
    [InlineData("oltp:schema", "oltp", PlacementKind.Schema)]
    [InlineData("content:shared", "content", PlacementKind.Shared)]
    public void A_placement_is_tier_colon_kind(string text, string tier, PlacementKind kind)
    {
        Assert.Null(TenantArguments.ParsePlacement(text, out var placement));
        Assert.Equal(tier, placement.Tier);
        Assert.Equal(kind, placement.Kind);
    }

    [Theory]
    [InlineData("oltp")]
    [InlineData("oltp:rls")]
    [InlineData("OLTP:schema")]
    [InlineData("oltp:schema:x")]
    public void A_bad_placement_is_refused_naming_the_option_and_the_form(string text)
    {
        var error = TenantArguments.ParsePlacement(text, out _);
        Assert.NotNull(error);
        Assert.Contains("--placement", error, StringComparison.Ordinal);
        Assert.Contains("TIER:schema or TIER:shared", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tenant_role_is_tenant_underscore_its_name_and_never_longer_than_postgres_allows()
    {
        Assert.Equal("tenant_acme_eu", TenantProvisioner.RoleOf("acme-eu"));
        Assert.Throws<ArgumentException>(() => TenantProvisioner.RoleOf(new string('a', 57)));
        Assert.Throws<ArgumentException>(() => TenantProvisioner.RoleOf("Robert'); DROP"));
    }
}
