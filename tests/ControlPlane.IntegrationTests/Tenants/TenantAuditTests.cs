using System.Text.Json;
using ControlPlane.Client;
using TenantGrains = ControlPlane.Grains.Tenants;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>
/// The isolation audit and the probe on the real fleet, against holes the test makes itself: an always-true policy for
/// tenant A on a shared table, BYPASSRLS on tenant B's application role, a grant of B's schema to A, a view running as
/// its owner and a SECURITY DEFINER function over the shared table. The audit (over pg_catalog) and the probe (logged in
/// as the tenants) each find them; after the test's own fixes both pass.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class TenantAuditTests(SiloFixture fixture)
{
    [Fact]
    public async Task An_always_true_policy_and_a_bypassrls_role_are_found_by_the_audit_and_the_probe_and_pass_after_the_fix()
    {
        using var client = new ControlPlaneClient(new Uri(fixture.Endpoint), new ControlPlaneClientOptions { Token = fixture.AdminToken });
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (a, b) = ($"aud-a-{suffix}", $"aud-b-{suffix}");
        var (roleA, roleB) = (TwoPlacementTenant.Role(a), TwoPlacementTenant.Role(b));
        var (leaky, view, function) = ($"leaky_{suffix}", $"notes_all_{suffix}", $"notes_of_all_{suffix}");
        var oltp = new TenantSql(fixture, "oltp");
        var content = new TenantSql(fixture, "content");
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        await content.ExecuteAsync("CREATE SCHEMA IF NOT EXISTS tenant_shared");
        await content.ExecuteAsync("CREATE TABLE IF NOT EXISTS tenant_shared.notes (tenant_id text NOT NULL, body text)");
        await TwoPlacementTenant.RegisterAsync(client, a);
        await TwoPlacementTenant.RegisterAsync(client, b);
        await content.ExecuteAsync("INSERT INTO tenant_shared.notes SELECT $1, 'a' || g FROM generate_series(1, 2) g", a);
        await content.ExecuteAsync("INSERT INTO tenant_shared.notes SELECT $1, 'b' || g FROM generate_series(1, 3) g", b);

        // Clean as registered: nothing the holes below will cause.
        var before = await client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "content", Tenant = a });
        Assert.DoesNotContain(before.Findings, f => f.Rule is "policy-always-true" or "role-bypassrls" or "view-without-security-invoker" or "definer-public-execute");
        Assert.Equal(0, (await client.Tenants.ProbeTenantAsync(new TenantRequest { Tenant = a })).Probe.Leaks);

        // The holes: an always-true policy for A, BYPASSRLS on B's role, B's schema granted to A, and a view and a definer
        // function over the shared table that A may use.
        await content.ExecuteAsync($"CREATE POLICY {leaky} ON tenant_shared.notes FOR SELECT TO {roleA} USING (true)");
        await content.ExecuteAsync($"ALTER ROLE {roleB} BYPASSRLS");
        await oltp.ExecuteAsync($"GRANT USAGE ON SCHEMA {roleB} TO {roleA}");
        await content.ExecuteAsync($"CREATE VIEW public.{view} AS SELECT tenant_id, body FROM tenant_shared.notes; GRANT SELECT ON public.{view} TO {roleA}");
        await content.ExecuteAsync(
            $"CREATE FUNCTION public.{function}() RETURNS TABLE (tenant_id text, body text) LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT tenant_id, body FROM tenant_shared.notes'");

        var audit = await client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "content" });
        var policy = Assert.Single(audit.Findings, f => f.Rule == "policy-always-true" && f.Object == $"policy {leaky} on tenant_shared.notes");
        Assert.Equal(("critical", a), (policy.Severity, policy.Tenant));
        Assert.StartsWith($"DROP POLICY {leaky} ON tenant_shared.notes;", policy.Fix, StringComparison.Ordinal);
        var bypass = Assert.Single(audit.Findings, f => f.Rule == "role-bypassrls" && f.Object == $"role {roleB}");
        Assert.Equal(("critical", b, $"ALTER ROLE {roleB} NOBYPASSRLS;"), (bypass.Severity, bypass.Tenant, bypass.Fix));
        Assert.Contains(audit.Findings, f => f.Rule == "view-without-security-invoker" && f.Object == $"view public.{view}");
        Assert.Contains(audit.Findings, f => f.Rule == "definer-public-execute" && f.Object == $"function public.{function}()");
        Assert.True(audit.Critical >= 2);
        var schemaGrant = (await client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "oltp", Tenant = b })).Findings
            .Single(f => f.Rule == "schema-granted-to-other-tenant");
        Assert.Equal((b, $"REVOKE ALL ON SCHEMA {roleB} FROM {roleA};"), (schemaGrant.Tenant, schemaGrant.Fix));

        // Kept per tenant (cpctl tenant show), only what concerns it, and raised as an alert on the tier.
        var stored = (await client.Tenants.GetTenantAsync(new TenantRequest { Tenant = a })).Audits.Single(x => x.Tier == "content");
        Assert.Contains(stored.Findings, f => f.Rule == "policy-always-true");
        Assert.DoesNotContain(stored.Findings, f => f.Tenant == b);
        var (showExit, shown, _) = await TenantCpctl.RunAsync(fixture, "tenant", "show", a);
        Assert.Equal(0, showExit);
        Assert.Contains("policy-always-true", shown, StringComparison.Ordinal);
        var alert = await AlertWaits.FiringAsync(client.CallInvoker, "local", "TenantIsolationAuditCritical", Tier("content"), TimeSpan.FromSeconds(30));
        Assert.Equal("critical", alert.Severity);

        // cpctl: exit 1 on a critical finding, the findings as JSON.
        var (exit, json, _) = await TenantCpctl.RunAsync(fixture, "tenant", "audit", "content", "--tenant", a, "--json");
        Assert.Equal(1, exit);
        using (var doc = JsonDocument.Parse(json))
            Assert.Contains(doc.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("rule").GetString() == "policy-always-true");

        // The probe, as each tenant's application: A through its policy, the view and the function; B through BYPASSRLS
        // (the scheduled path: one tenant against named targets on one tier).
        var probeA = (await client.Tenants.ProbeTenantAsync(new TenantRequest { Tenant = a })).Probe;
        Assert.Contains(probeA.Findings, f => f.Tier == "content" && f.Target == b && f.Leaked && f.Attempt.StartsWith($"SELECT {b}'s rows of tenant_shared.notes", StringComparison.Ordinal));
        Assert.Contains(probeA.Findings, f => f.Target == b && f.Leaked && f.Attempt == $"SELECT {b}'s rows through view public.{view}");
        Assert.Contains(probeA.Findings, f => f.Target == b && f.Leaked && f.Attempt == $"SELECT {b}'s rows through function public.{function}()");
        var tenants = fixture.Silo.Services.GetRequiredService<IGrainFactory>();
        var probeB = (await tenants.GetGrain<TenantGrains.ITenantGrain>(TenantGrains.TenantKeys.Of("local", b)).ProbeTargets("content", [a], TenantGrains.TenantAuditGrain.Scheduler)).Probe!;
        Assert.Contains(probeB.Findings, f => f.Tier == "content" && f.Target == a && f.Leaked && f.Attempt.StartsWith($"SELECT {a}'s rows of tenant_shared.notes", StringComparison.Ordinal));

        // The fixes the audit proposed (and the test's own cleanup of the view and function); then both pass.
        await content.ExecuteAsync(policy.Fix.Split(';')[0]);
        await content.ExecuteAsync(bypass.Fix);
        await oltp.ExecuteAsync(schemaGrant.Fix);
        await content.ExecuteAsync($"DROP VIEW public.{view}; DROP FUNCTION public.{function}()");
        var after = await client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "content" });
        Assert.DoesNotContain(after.Findings, f => f.Tenant == a || f.Tenant == b);
        Assert.DoesNotContain((await client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "oltp", Tenant = b })).Findings, f => f.Tenant == b);
        Assert.DoesNotContain((await client.Tenants.GetTenantAsync(new TenantRequest { Tenant = a })).Audits.Single(x => x.Tier == "content").Findings, f => f.Tenant == a);
        if (after.Critical == 0) await AlertWaits.ResolvedAsync(client.CallInvoker, "local", "TenantIsolationAuditCritical", Tier("content"), TimeSpan.FromSeconds(30));
        Assert.Equal(0, (await client.Tenants.ProbeTenantAsync(new TenantRequest { Tenant = a })).Probe.Leaks);
        Assert.Equal(0, (await client.Tenants.ProbeTenantAsync(new TenantRequest { Tenant = b })).Probe.Leaks);

        // A scheduled round: a sample of pairs of the tier's active tenants, each stored on its prober.
        var pairs = await tenants.GetGrain<TenantGrains.ITenantAuditGrain>("local/content").ProbeRound(TenantGrains.TenantAuditGrain.Scheduler);
        Assert.NotEmpty(pairs);

        await client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = a, Confirm = a });
        await client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = b, Confirm = b });
    }

    [Fact]
    public async Task Bad_audit_requests_are_refused_with_the_argument_named()
    {
        using var client = new ControlPlaneClient(new Uri(fixture.Endpoint), new ControlPlaneClientOptions { Token = fixture.AdminToken });
        var invalid = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "Bad Tier" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("tier", invalid.Status.Detail, StringComparison.Ordinal);
        var tenant = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "content", Tenant = "Robert'); DROP" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tenant.StatusCode);
        var tier = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "no-such-tier" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, tier.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest { Tier = "content", Tenant = "no-such-tenant" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no-such-tenant", unknown.Status.Detail, StringComparison.Ordinal);

        Assert.Equal(2, (await TenantCpctl.RunAsync(fixture, "tenant", "audit", "Bad Tier")).Exit);
        Assert.Equal(2, (await TenantCpctl.RunAsync(fixture, "tenant", "audit", "content", "--tenant", "Bad Name")).Exit);
        var (exit, _, error) = await TenantCpctl.RunAsync(fixture, "tenant", "audit", "content", "--tenant", "no-such-tenant");
        Assert.Equal(1, exit);
        Assert.Contains("NotFound", error.Replace("_", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
    }

    private static Dictionary<string, string> Tier(string tier) => new() { ["environment"] = "local", ["tier"] = tier };
}
