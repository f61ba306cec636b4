using ControlPlane.Client;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>
/// What register's roles, schemas and policies enforce, tried by the test itself as tenant A's application: every attempt
/// on tenant B's schema or rows is refused or sees nothing; the product's probe agrees, and finds deliberate holes; an
/// erase removes A's rows only.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class TenantIsolationTests(SiloFixture fixture)
{
    [Fact]
    public async Task A_tenant_role_cannot_read_or_write_another_tenants_schema_or_shared_rows_and_erase_removes_only_its_own()
    {
        using var client = new ControlPlaneClient(new Uri(fixture.Endpoint), new ControlPlaneClientOptions { Token = fixture.AdminToken });
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (a, b) = ($"iso-a-{suffix}", $"iso-b-{suffix}");
        var (roleA, roleB) = (TwoPlacementTenant.Role(a), TwoPlacementTenant.Role(b));
        var oltp = new TenantSql(fixture, "oltp");
        var content = new TenantSql(fixture, "content");
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        // The shared table exists before the tenants register: register puts its policies on every such table.
        await content.ExecuteAsync("CREATE SCHEMA IF NOT EXISTS tenant_shared");
        await content.ExecuteAsync("CREATE TABLE IF NOT EXISTS tenant_shared.notes (tenant_id text NOT NULL, body text)");

        var infoA = await TwoPlacementTenant.RegisterAsync(client, a);
        await TwoPlacementTenant.RegisterAsync(client, b);
        await content.ExecuteAsync("INSERT INTO tenant_shared.notes SELECT $1, 'a' || g FROM generate_series(1, 2) g", a);
        await content.ExecuteAsync("INSERT INTO tenant_shared.notes SELECT $1, 'b' || g FROM generate_series(1, 3) g", b);
        await oltp.ExecuteAsync($"CREATE TABLE {roleB}.secrets (v text); INSERT INTO {roleB}.secrets VALUES ('b-only')");

        // Schema per tenant: A's role has no way into B's schema.
        await using (var appA = await oltp.OpenAsync(roleA, infoA.Placements.Single(p => p.Tier == "oltp").PasswordFile))
        {
            var read = await Assert.ThrowsAsync<PostgresException>(() => TenantSql.ScalarAsync<string>(appA, $"SELECT v FROM {roleB}.secrets"));
            Assert.Equal("42501", read.SqlState);
            var create = await Assert.ThrowsAsync<PostgresException>(() => TenantSql.ExecuteAsync(appA, $"CREATE TABLE {roleB}.planted (v text)"));
            Assert.Equal("42501", create.SqlState);
        }

        // Shared tables: A sees and changes only its own rows, and cannot write a row as B.
        await using (var appA = await content.OpenAsync(roleA, infoA.Placements.Single(p => p.Tier == "content").PasswordFile))
        {
            Assert.Equal(2L, await TenantSql.ScalarAsync<long>(appA, "SELECT count(*) FROM tenant_shared.notes"));
            Assert.Equal(0L, await TenantSql.ScalarAsync<long>(appA, "SELECT count(*) FROM tenant_shared.notes WHERE tenant_id = $1", b));
            Assert.Equal(0, await TenantSql.ExecuteAsync(appA, "UPDATE tenant_shared.notes SET body = 'x' WHERE tenant_id = $1", b));
            Assert.Equal(0, await TenantSql.ExecuteAsync(appA, "DELETE FROM tenant_shared.notes WHERE tenant_id = $1", b));
            var insert = await Assert.ThrowsAsync<PostgresException>(() => TenantSql.ExecuteAsync(appA, "INSERT INTO tenant_shared.notes VALUES ($1, 'forged')", b));
            Assert.Equal("42501", insert.SqlState);
            var disable = await Assert.ThrowsAsync<PostgresException>(() => TenantSql.ExecuteAsync(appA, "ALTER TABLE tenant_shared.notes DISABLE ROW LEVEL SECURITY"));
            Assert.Equal("42501", disable.SqlState);
        }

        // The product's live probe, as A, finds nothing to reach on either tier.
        var probe = (await client.Tenants.ProbeTenantAsync(new TenantRequest { Tenant = a })).Probe;
        Assert.Equal(0, probe.Leaks);
        Assert.Contains(probe.Findings, f => f.Tier == "oltp" && f.Target == b && f.Attempt == $"SELECT from {roleB}.secrets" && f.Detail.StartsWith("refused", StringComparison.Ordinal));
        Assert.Contains(probe.Findings, f => f.Tier == "content" && f.Target == b && f.Attempt.StartsWith("INSERT", StringComparison.Ordinal) && f.Detail.StartsWith("refused", StringComparison.Ordinal));

        // A deliberate hole in each placement: a grant on B's schema, a policy that is always true. The probe finds both.
        await oltp.ExecuteAsync($"GRANT USAGE ON SCHEMA {roleB} TO {roleA}; GRANT SELECT ON {roleB}.secrets TO {roleA}");
        await content.ExecuteAsync($"CREATE POLICY leaky ON tenant_shared.notes FOR SELECT TO {roleA} USING (true)");
        var leaky = (await client.Tenants.ProbeTenantAsync(new TenantRequest { Tenant = a })).Probe;
        Assert.Contains(leaky.Findings, f => f.Tier == "oltp" && f.Leaked && f.Attempt == $"SELECT from {roleB}.secrets");
        Assert.Contains(leaky.Findings, f => f.Tier == "content" && f.Leaked && f.Attempt.StartsWith($"SELECT {b}'s rows", StringComparison.Ordinal));
        var (exit, _, _) = await TenantCpctl.RunAsync(fixture, "tenant", "probe", a);
        Assert.Equal(1, exit);
        Assert.Equal(2, (await client.Tenants.GetTenantAsync(new TenantRequest { Tenant = a })).Probe.Leaks);
        // The leaks are alerts too, one per tier the probe reached another tenant on (TenantIsolationLeak, critical).
        foreach (var tier in new[] { "oltp", "content" })
        {
            var alert = await AlertWaits.FiringAsync(client.CallInvoker, "local", "TenantIsolationLeak", Labels(tier, a), TimeSpan.FromSeconds(30));
            Assert.Equal("critical", alert.Severity);
            Assert.True(alert.Value >= 1, $"value {alert.Value}");
        }

        await oltp.ExecuteAsync($"REVOKE ALL ON {roleB}.secrets FROM {roleA}; REVOKE USAGE ON SCHEMA {roleB} FROM {roleA}");
        await content.ExecuteAsync("DROP POLICY leaky ON tenant_shared.notes");
        Assert.Equal(0, (await client.Tenants.ProbeTenantAsync(new TenantRequest { Tenant = a })).Probe.Leaks);
        // A clean probe of a tier resolves that tier's alert.
        foreach (var tier in new[] { "oltp", "content" })
            await AlertWaits.ResolvedAsync(client.CallInvoker, "local", "TenantIsolationLeak", Labels(tier, a), TimeSpan.FromSeconds(30));

        var erased = await client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = a, Confirm = a });
        Assert.True(erased.EraseReport.Verified);
        var shared = erased.EraseReport.Tiers.Single(t => t.Tier == "content").Rows.Single(r => r.Table == "tenant_shared.notes");
        Assert.Equal((2L, 0L), (shared.Before, shared.After));

        // The test's own count: A's rows are gone, B's untouched, A's policy and role are gone.
        Assert.Equal(0L, await content.ScalarAsync<long>("SELECT count(*) FROM tenant_shared.notes WHERE tenant_id = $1", a));
        Assert.Equal(3L, await content.ScalarAsync<long>("SELECT count(*) FROM tenant_shared.notes WHERE tenant_id = $1", b));
        Assert.Equal(0L, await content.ScalarAsync<long>("SELECT count(*) FROM pg_policies WHERE policyname = $1", roleA));
        Assert.False(await content.RoleExistsAsync(roleA));
        Assert.False(await oltp.RoleExistsAsync(roleA));
        Assert.False(await oltp.SchemaExistsAsync(roleA));
        Assert.True(await oltp.SchemaExistsAsync(roleB));

        await client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = b, Confirm = b });
        Assert.Equal(0L, await content.ScalarAsync<long>("SELECT count(*) FROM tenant_shared.notes WHERE tenant_id = $1", b));
    }

    private static Dictionary<string, string> Labels(string tier, string tenant) =>
        new() { ["environment"] = "local", ["tier"] = tier, ["tenant"] = tenant };
}
