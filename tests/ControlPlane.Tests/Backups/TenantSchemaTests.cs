using ControlPlane.Postgres.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class TenantSchemaTests
{
    [Theory]
    [InlineData("acme", "tenant_acme")]
    [InlineData("acme-eu-2", "tenant_acme_eu_2")]
    [InlineData("a_b", "tenant_a_b")]
    public void Tenant_schema_is_the_prefixed_name_with_dashes_as_underscores(string tenant, string schema) =>
        Assert.Equal(schema, TenantDump.SchemaOf(tenant));

    [Theory]
    [InlineData("")]
    [InlineData("Acme")]
    [InlineData("acme corp")]
    [InlineData("acme\"; DROP SCHEMA public; --")]
    [InlineData("a.b")]
    public void Tenant_name_outside_lowercase_letters_digits_dash_and_underscore_is_rejected_by_name(string tenant)
    {
        var e = Assert.Throws<ArgumentException>(() => TenantDump.SchemaOf(tenant));
        Assert.Contains($"'{tenant}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tenant_name_whose_schema_would_exceed_the_identifier_limit_is_rejected() =>
        Assert.Throws<ArgumentException>(() => TenantDump.SchemaOf(new string('a', 57)));
}
