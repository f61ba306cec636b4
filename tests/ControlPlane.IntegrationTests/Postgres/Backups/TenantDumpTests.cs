using ControlPlane.IntegrationTests.Postgres.Failover;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

[Collection(DrillPrimaryCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class TenantDumpTests(DrillPrimaryFixture fixture)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TenantDump _dump = new(NullLogger.Instance);

    private ReplicaEndpoint Primary => fixture.Primary.Endpoint;

    [Fact]
    public async Task Export_then_drop_then_import_brings_back_identical_rows()
    {
        await CreateTenantAsync("acme-1");
        var before = await FingerprintAsync("tenant_acme_1");

        var export = await _dump.ExportAsync(Primary, "acme-1", ExportFile("acme-1"), None);
        await Sql.ScalarAsync(Primary, "DROP SCHEMA tenant_acme_1 CASCADE");
        var import = await _dump.ImportAsync(Primary, "acme-1", export.File, replace: false, None);

        Assert.Equal(before, await FingerprintAsync("tenant_acme_1"));
        Assert.Equal([new("postgres", "tenant_acme_1.customers", 3), new TableCount("postgres", "tenant_acme_1.orders", 4)], export.Counts);
        Assert.Equal(export.Counts, import.Counts);
        Assert.True(export.Bytes > 0 && export.Bytes == new FileInfo(export.File).Length);
    }

    [Fact]
    public async Task Import_without_replace_is_refused_while_the_tenant_schema_exists()
    {
        await CreateTenantAsync("acme-2");
        var export = await _dump.ExportAsync(Primary, "acme-2", ExportFile("acme-2"), None);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _dump.ImportAsync(Primary, "acme-2", export.File, replace: false, None));

        Assert.Contains("schema 'tenant_acme_2'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_with_replace_overwrites_the_tenant_schema_with_the_export()
    {
        await CreateTenantAsync("acme-3");
        var exported = await FingerprintAsync("tenant_acme_3");
        var export = await _dump.ExportAsync(Primary, "acme-3", ExportFile("acme-3"), None);
        await Sql.ScalarAsync(Primary, "DELETE FROM tenant_acme_3.orders WHERE id > 2; UPDATE tenant_acme_3.customers SET name = 'changed'");

        await _dump.ImportAsync(Primary, "acme-3", export.File, replace: true, None);

        Assert.Equal(exported, await FingerprintAsync("tenant_acme_3"));
    }

    [Fact]
    public async Task Export_of_a_tenant_without_a_schema_names_the_missing_schema()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => _dump.ExportAsync(Primary, "ghost", ExportFile("ghost"), None));

        Assert.Contains("Tenant 'ghost' has no schema 'tenant_ghost'", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(ExportFile("ghost")));
    }

    [Fact]
    public async Task Import_of_another_tenants_export_is_refused()
    {
        await CreateTenantAsync("acme-4");
        var export = await _dump.ExportAsync(Primary, "acme-4", ExportFile("acme-4"), None);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => _dump.ImportAsync(Primary, "acme-5", export.File, replace: true, None));

        Assert.Contains("holds schemas [tenant_acme_4], expected only 'tenant_acme_5'", e.Message, StringComparison.Ordinal);
    }

    private async Task CreateTenantAsync(string tenant)
    {
        var schema = TenantDump.SchemaOf(tenant);
        await Sql.ScalarAsync(Primary, $"""
            DROP SCHEMA IF EXISTS {schema} CASCADE;
            CREATE SCHEMA {schema};
            CREATE TABLE {schema}.customers (id int PRIMARY KEY, name text NOT NULL);
            CREATE TABLE {schema}.orders (id int PRIMARY KEY, customer int REFERENCES {schema}.customers, amount numeric);
            INSERT INTO {schema}.customers VALUES (1, 'ada'), (2, 'grace'), (3, 'edsger');
            INSERT INTO {schema}.orders VALUES (1, 1, 9.5), (2, 1, 12), (3, 2, 0.25), (4, 3, NULL);
            """);
    }

    /// <summary>Every row of the tenant's two tables, in a canonical order.</summary>
    private async Task<string> FingerprintAsync(string schema) =>
        (string)(await Sql.ScalarAsync(Primary,
            $"SELECT (SELECT string_agg(c::text, ';' ORDER BY id) FROM {schema}.customers c) || ' | ' "
            + $"|| (SELECT string_agg(o::text, ';' ORDER BY id) FROM {schema}.orders o)"))!;

    private string ExportFile(string tenant) => Path.Combine(fixture.Root, "exports", tenant, $"{tenant}.dump");
}
