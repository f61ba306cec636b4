using System.Text.Json;
using ControlPlane.Client;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>
/// The personal-data catalog and anonymisation on the shared fleet: a schema-per-tenant tier (oltp) and shared tables
/// with RLS (content). The verification is the test's own: it knows the originals it wrote and looks for them.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class TenantAnonymiseTests(SiloFixture fixture)
{
    private const string Ada = "ada@example.com";
    private const string Bob = "Bob@Example.com";

    [Fact]
    public async Task Anonymise_replaces_every_declared_column_of_the_tenant_on_both_placements_keeps_joins_and_leaves_other_tenants_alone()
    {
        using var client = new ControlPlaneClient(new Uri(fixture.Endpoint), new ControlPlaneClientOptions { Token = fixture.AdminToken });
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (a, b) = ($"pii-a-{suffix}", $"pii-b-{suffix}");
        var (schemaA, schemaB) = ("tenant_" + a.Replace('-', '_'), "tenant_" + b.Replace('-', '_'));
        var oltp = new TenantSql(fixture, "oltp");
        var content = new TenantSql(fixture, "content");
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        await content.ExecuteAsync("CREATE SCHEMA IF NOT EXISTS tenant_shared");
        await content.ExecuteAsync("CREATE TABLE IF NOT EXISTS tenant_shared.pii_contacts (tenant_id text NOT NULL, email text, last_ip inet)");
        foreach (var tenant in new[] { a, b })
        {
            await client.Tenants.RegisterTenantAsync(new TenantRegisterRequest
            {
                Tenant = tenant,
                Placements = { new TenantPlacement { Tier = "oltp", Kind = PlacementKind.Schema }, new TenantPlacement { Tier = "content", Kind = PlacementKind.Shared } },
            });
        }
        foreach (var schema in new[] { schemaA, schemaB })
        {
            await oltp.ExecuteAsync($"""
                CREATE TABLE {schema}.customers (id int PRIMARY KEY, email text, full_name text, date_of_birth date, phone varchar(20));
                CREATE TABLE {schema}.orders (id int PRIMARY KEY, customer_email varchar(80), ship_address text);
                INSERT INTO {schema}.customers VALUES (1, '{Ada}', 'Ada Lovelace', '1815-12-10', '+44 20 7946 0958'), (2, '{Bob}', 'Bob Babbage', '1791-12-26', NULL), (3, NULL, NULL, NULL, NULL);
                INSERT INTO {schema}.orders VALUES (10, '{Ada}', '12 St James Square, London'), (11, '{Ada}', '12 St James Square, London'), (12, 'bob@example.com', '')
                """);
        }
        await content.ExecuteAsync("INSERT INTO tenant_shared.pii_contacts VALUES ($1, $2, '192.0.2.10'), ($1, $3, '2001:db8::1'), ($4, $2, '192.0.2.10')", a, Ada, Bob, b);

        // Suggestions from names and types, for a reviewer; nothing is declared by suggesting.
        var suggested = (await client.Tenants.SuggestPiiColumnsAsync(new PiiSuggestRequest { Tier = "oltp" })).Suggestions;
        Assert.Contains(suggested, s => s.Table == "customers" && s.Column == "email" && s.Kind == "email" && s.Schemas.Contains(schemaA));
        Assert.Contains(suggested, s => s.Table == "customers" && s.Column == "date_of_birth" && s.Kind == "birthdate");
        Assert.Contains(suggested, s => s.Table == "orders" && s.Column == "ship_address" && s.Kind == "address");
        Assert.DoesNotContain(suggested, s => s.Column == "id");

        // Bad input: clear errors, nothing declared or changed.
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.Tenants.DeclarePiiColumnAsync(
            new PiiDeclareRequest { Tier = "oltp", Table = "customers", Column = "emial", Kind = "email" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        var misfit = await Assert.ThrowsAsync<RpcException>(async () => await client.Tenants.DeclarePiiColumnAsync(
            new PiiDeclareRequest { Tier = "oltp", Table = "customers", Column = "id", Kind = "email" }));
        Assert.Equal(StatusCode.InvalidArgument, misfit.StatusCode);
        Assert.Contains("integer", misfit.Status.Detail, StringComparison.Ordinal);
        var kind = await Assert.ThrowsAsync<RpcException>(async () => await client.Tenants.DeclarePiiColumnAsync(
            new PiiDeclareRequest { Tier = "oltp", Table = "customers", Column = "email", Kind = "ssn" }));
        Assert.Equal(StatusCode.InvalidArgument, kind.StatusCode);

        // The reviewer declares, with cpctl and over gRPC.
        var (declared, _, declareError) = await TenantCpctl.RunAsync(fixture, "tenant", "pii", "declare", "oltp", "customers", "email", "--kind", "email");
        Assert.True(declared == 0, declareError);
        foreach (var (tier, table, column, k) in new[]
        {
            ("oltp", "customers", "full_name", "name"), ("oltp", "customers", "date_of_birth", "birthdate"), ("oltp", "customers", "phone", "phone"),
            ("oltp", "orders", "customer_email", "email"), ("oltp", "orders", "ship_address", "address"),
            ("content", "pii_contacts", "email", "email"), ("content", "pii_contacts", "last_ip", "ip"),
        })
        {
            await client.Tenants.DeclarePiiColumnAsync(new PiiDeclareRequest { Tier = tier, Table = table, Column = column, Kind = k });
        }
        var (listed, listJson, _) = await TenantCpctl.RunAsync(fixture, "tenant", "pii", "list", "--json");
        Assert.Equal(0, listed);
        using (var list = JsonDocument.Parse(listJson))
            Assert.True(list.RootElement.GetProperty("columns").GetArrayLength() >= 8);

        var undeclared = await Assert.ThrowsAsync<RpcException>(async () => await client.Tenants.AnonymiseTenantAsync(
            new TenantAnonymiseRequest { Tenant = a, Confirm = a, Columns = { "oltp:customers.id" } }));
        Assert.Equal(StatusCode.InvalidArgument, undeclared.StatusCode);
        Assert.Contains("not a declared personal-data column", undeclared.Status.Detail, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await client.Tenants.AnonymiseTenantAsync(
            new TenantAnonymiseRequest { Tenant = "nobody-" + suffix, Confirm = "nobody-" + suffix }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var (refused, _, refusedError) = await TenantCpctl.RunAsync(fixture, "tenant", "anonymise", a, "--confirm", b);
        Assert.NotEqual(0, refused);
        Assert.Contains("confirm", refusedError, StringComparison.Ordinal);
        Assert.Equal(Ada, await oltp.ScalarAsync<string>($"SELECT email FROM {schemaA}.customers WHERE id = 1"));

        // Anonymise A with cpctl: exit 0 only when verified.
        var (exit, json, error) = await TenantCpctl.RunAsync(fixture, "tenant", "anonymise", a, "--confirm", a, "--json");
        Assert.True(exit == 0, error + json);
        var report = (await client.Tenants.GetTenantAsync(new TenantRequest { Tenant = a })).AnonymiseReport;
        Assert.True(report.Verified);
        Assert.StartsWith("sha256:", report.Digest, StringComparison.Ordinal);
        var customersEmail = report.Tiers.Single(t => t.Tier == "oltp").Columns.Single(c => c.Table == $"{schemaA}.customers" && c.Column == "email");
        Assert.Equal((3L, 2L, 2), (customersEmail.Rows, customersEmail.Updated, customersEmail.Values));

        // The test's own verification: no original value of a declared column remains in A's rows, on either tier.
        string[] originals = [Ada, Bob, "bob@example.com", "Ada Lovelace", "Bob Babbage", "+44 20 7946 0958", "12 St James Square, London", "192.0.2.10", "2001:db8::1"];
        Assert.Equal(0L, await oltp.ScalarAsync<long>(
            $"SELECT count(*) FROM {schemaA}.customers WHERE email = ANY($1) OR full_name = ANY($1) OR phone = ANY($1) OR date_of_birth IN ('1815-12-10', '1791-12-26')", [originals]));
        Assert.Equal(0L, await oltp.ScalarAsync<long>($"SELECT count(*) FROM {schemaA}.orders WHERE customer_email = ANY($1) OR ship_address = ANY($1)", [originals]));
        Assert.Equal(0L, await content.ScalarAsync<long>(
            "SELECT count(*) FROM tenant_shared.pii_contacts WHERE tenant_id = $1 AND (email = ANY($2) OR host(last_ip) = ANY($2))", a, originals));
        // Still valid where they were, still joinable (the same email in two tables and on two tiers got one pseudonym), rows kept.
        Assert.Equal(0L, await oltp.ScalarAsync<long>($"SELECT count(*) FROM {schemaA}.customers WHERE email IS NOT NULL AND email NOT LIKE '_%@_%._%'"));
        // Ada's two orders still join her; Bob's order (spelled bob@example.com) now joins him too: spellings share one pseudonym.
        Assert.Equal(3L, await oltp.ScalarAsync<long>($"SELECT count(*) FROM {schemaA}.orders o JOIN {schemaA}.customers c ON c.email = o.customer_email"));
        var adaPseudonym = await oltp.ScalarAsync<string>($"SELECT email FROM {schemaA}.customers WHERE id = 1");
        Assert.Equal(1L, await content.ScalarAsync<long>("SELECT count(*) FROM tenant_shared.pii_contacts WHERE tenant_id = $1 AND email = $2", a, adaPseudonym));
        Assert.Equal(3L, await oltp.ScalarAsync<long>($"SELECT count(*) FROM {schemaA}.customers"));
        Assert.True(await oltp.ScalarAsync<bool>($"SELECT email IS NULL AND date_of_birth IS NULL FROM {schemaA}.customers WHERE id = 3"));
        Assert.Equal("", await oltp.ScalarAsync<string>($"SELECT ship_address FROM {schemaA}.orders WHERE id = 12"));
        // B's rows in the same shared table, and B's own schema, still hold their originals.
        Assert.Equal(Ada, await oltp.ScalarAsync<string>($"SELECT email FROM {schemaB}.customers WHERE id = 1"));
        Assert.Equal(1L, await content.ScalarAsync<long>("SELECT count(*) FROM tenant_shared.pii_contacts WHERE tenant_id = $1 AND email = $2", b, Ada));
        // The key stays in its 0600 file; it is not in the report.
        var key = Assert.Single(Directory.GetFiles(Path.Combine(fixture.DataDirectory, "secrets", "tenants"), "pseudonym.*.key"));
        if (OperatingSystem.IsLinux()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.DoesNotContain((await File.ReadAllTextAsync(key)).Trim(), json, StringComparison.Ordinal);

        // An erased tenant cannot be anonymised; nothing of it is left to anonymise.
        await client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = b, Confirm = b });
        var erased = await Assert.ThrowsAsync<RpcException>(async () => await client.Tenants.AnonymiseTenantAsync(new TenantAnonymiseRequest { Tenant = b, Confirm = b }));
        Assert.Equal(StatusCode.FailedPrecondition, erased.StatusCode);
        Assert.Contains("erased", erased.Status.Detail, StringComparison.Ordinal);
        await client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = a, Confirm = a });
    }
}
