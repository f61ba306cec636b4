using System.Text.Json;
using ControlPlane.Client;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>
/// The tenant lifecycle on the real local fleet, through the real gateway, checked with the test's own SQL. Uses its
/// own tenant names (the shared fixture's other tests rely on the demo tenants) on oltp and content.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class TenantLifecycleTests(SiloFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Register_suspend_resume_erase_creates_locks_unlocks_and_removes_the_schema_and_role_with_a_verified_report()
    {
        using var client = Client();
        var name = "lc-" + Guid.NewGuid().ToString("N")[..6];
        var role = "tenant_" + name.Replace('-', '_');
        var sql = new TenantSql(fixture, "oltp");
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));

        var registered = await client.Tenants.RegisterTenantAsync(new TenantRegisterRequest
        {
            Tenant = name,
            Plans = { new TenantPlan { Tier = "oltp", Weight = 1, Min = 1, Max = 5 } },
            Placements = { new TenantPlacement { Tier = "oltp", Kind = PlacementKind.Schema } },
        });
        Assert.Equal(TenantState.Active, registered.State);
        var placement = Assert.Single(registered.Placements);
        Assert.Equal(role, placement.Role);
        if (OperatingSystem.IsLinux()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(placement.PasswordFile));

        // What register created, as the superuser sees it: the schema, and a role that may log in and nothing more.
        Assert.True(await sql.SchemaExistsAsync(role));
        Assert.True(await sql.ScalarAsync<bool>(
            "SELECT rolcanlogin AND NOT (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls OR rolinherit) FROM pg_roles WHERE rolname = $1", role));

        // The tenant's application logs in with its password file and works in its schema.
        await using (var app = await sql.OpenAsync(role, placement.PasswordFile))
        {
            await TenantSql.ExecuteAsync(app, $"CREATE TABLE {role}.orders (id int PRIMARY KEY, item text)");
            await TenantSql.ExecuteAsync(app, $"INSERT INTO {role}.orders SELECT g, 'item ' || g FROM generate_series(1, 3) g");
        }

        using var watch = client.Tenants.WatchTenant(new TenantRequest { Tenant = name });
        Assert.True(await watch.ResponseStream.MoveNext());
        Assert.Equal(TenantState.Active, watch.ResponseStream.Current.State);

        var lease = await client.Pools.AcquireLeaseAsync(new AcquireLeaseRequest { Tier = "oltp", Tenant = name, Service = "api", Requested = 2 });
        var held = await sql.OpenAsync(role, placement.PasswordFile);

        var suspended = await client.Tenants.SuspendTenantAsync(new TenantSuspendRequest { Tenant = name, Reason = "unpaid invoice" });
        Assert.Equal(TenantState.Suspended, suspended.State);
        Assert.Contains(suspended.History, h => h.Event.Contains("unpaid invoice", StringComparison.Ordinal));
        Assert.Contains(suspended.History, h => h.Event.Contains(lease.LeaseId, StringComparison.Ordinal));

        // Suspended: the open session was ended, a new login is refused, the lease is gone and a new one refused.
        await Assert.ThrowsAnyAsync<Exception>(async () => await TenantSql.ScalarAsync<int>(held, "SELECT 1"));
        await held.DisposeAsync();
        var refused = await Assert.ThrowsAsync<PostgresException>(() => sql.OpenAsync(role, placement.PasswordFile));
        Assert.Equal("28000", refused.SqlState);
        var leases = await client.Pools.ListLeasesAsync(new ListLeasesRequest { Tier = "oltp" });
        Assert.DoesNotContain(leases.Leases, l => l.LeaseId == lease.LeaseId);
        var noLease = await Assert.ThrowsAsync<RpcException>(() =>
            client.Pools.AcquireLeaseAsync(new AcquireLeaseRequest { Tier = "oltp", Tenant = name, Service = "api", Requested = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, noLease.StatusCode);
        Assert.True(await NextStateAsync(watch, TenantState.Suspended), "the watch streams the suspension");

        var resumed = await client.Tenants.ResumeTenantAsync(new TenantRequest { Tenant = name });
        Assert.Equal(TenantState.Active, resumed.State);
        await using (var app = await sql.OpenAsync(role, placement.PasswordFile))
        {
            Assert.Equal(3L, await TenantSql.ScalarAsync<long>(app, $"SELECT count(*) FROM {role}.orders"));
        }

        var (exit, json, error) = await TenantCpctl.RunAsync(fixture, "tenant", "erase", name, "--confirm", name, "--json");
        Assert.True(exit == 0, $"cpctl tenant erase exited {exit}: {error}");
        using var doc = JsonDocument.Parse(json);
        Assert.Equal("TENANT_STATE_ERASED", doc.RootElement.GetProperty("state").GetString());
        var report = doc.RootElement.GetProperty("eraseReport");
        Assert.True(report.GetProperty("verified").GetBoolean());
        Assert.StartsWith("sha256:", report.GetProperty("digest").GetString(), StringComparison.Ordinal);
        var rows = report.GetProperty("tiers")[0].GetProperty("rows")[0];
        Assert.Equal($"{role}.orders", rows.GetProperty("table").GetString());
        Assert.Equal("3", rows.GetProperty("before").GetString());

        // Checked by the test, not by the product's report: nothing of the tenant is left.
        Assert.False(await sql.SchemaExistsAsync(role));
        Assert.False(await sql.RoleExistsAsync(role));
        Assert.False(File.Exists(placement.PasswordFile));

        var illegal = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.ResumeTenantAsync(new TenantRequest { Tenant = name }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, illegal.StatusCode);
        Assert.Contains("erased", illegal.Status.Detail, StringComparison.Ordinal);
        var twice = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = name, Confirm = name }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, twice.StatusCode);
    }

    [Fact]
    public async Task Bad_requests_are_refused_naming_the_argument_and_change_nothing()
    {
        using var client = Client();
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.GetTenantAsync(new TenantRequest { Tenant = "nobody-" + Guid.NewGuid().ToString("N")[..6] }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var badName = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.RegisterTenantAsync(new TenantRegisterRequest
        {
            Tenant = "Robert'); DROP TABLE x; --",
            Placements = { new TenantPlacement { Tier = "oltp" } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badName.StatusCode);
        Assert.Contains("tenant", badName.Status.Detail, StringComparison.Ordinal);
        var noConfirm = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.EraseTenantAsync(new TenantEraseRequest { Tenant = "acme" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noConfirm.StatusCode);
        Assert.Contains("confirm", noConfirm.Status.Detail, StringComparison.Ordinal);
        var noReason = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.SuspendTenantAsync(new TenantSuspendRequest { Tenant = "acme" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noReason.StatusCode);
        Assert.Contains("reason", noReason.Status.Detail, StringComparison.Ordinal);
        var badTier = await Assert.ThrowsAsync<RpcException>(() => client.Tenants.RegisterTenantAsync(new TenantRegisterRequest
        {
            Tenant = "tierless", Placements = { new TenantPlacement { Tier = "nosuchtier" } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, badTier.StatusCode);
        Assert.Contains("nosuchtier", badTier.Status.Detail, StringComparison.Ordinal);

        // The demo tenants, registered before any placement existed, are tenant grains now with their plans.
        var acme = await client.Tenants.GetTenantAsync(new TenantRequest { Tenant = "acme" });
        Assert.Equal(TenantState.Active, acme.State);
        Assert.Equal(40, acme.Plans.Single(p => p.Tier == "oltp").Max);
        Assert.Contains((await client.Tenants.ListTenantsAsync(new TenantListRequest())).Tenants, t => t.Name == "acme");
    }

    [Fact]
    public async Task The_documented_cpctl_tenant_commands_work_end_to_end()
    {
        var name = "cli-" + Guid.NewGuid().ToString("N")[..6];
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        async Task<string> Ok(params string[] args)
        {
            var (exit, output, error) = await TenantCpctl.RunAsync(fixture, args);
            Assert.True(exit == 0, $"cpctl {string.Join(' ', args)} exited {exit}: {error}");
            return output;
        }

        Assert.Contains("active", await Ok("tenant", "register", name, "--placement", "oltp:schema", "--placement", "content:shared", "--plan", "oltp:2:2:20"), StringComparison.Ordinal);
        Assert.Contains("tenant_" + name.Replace('-', '_'), await Ok("tenant", "show", name), StringComparison.Ordinal);
        using (var list = JsonDocument.Parse(await Ok("tenant", "list", "--json")))
        {
            Assert.Contains(list.RootElement.GetProperty("tenants").EnumerateArray(), t => t.GetProperty("name").GetString() == name);
        }
        Assert.Contains("30", await Ok("tenant", "plan", name, "oltp", "--weight", "4", "--min", "2", "--max", "30"), StringComparison.Ordinal);
        Assert.Contains("suspended", await Ok("tenant", "suspend", name, "--reason", "maintenance"), StringComparison.Ordinal);
        Assert.Contains("active", await Ok("tenant", "resume", name), StringComparison.Ordinal);
        Assert.Contains("no leak", await Ok("tenant", "probe", name), StringComparison.Ordinal);
        Assert.Contains("verified", await Ok("tenant", "erase", name, "--confirm", name), StringComparison.Ordinal);

        var (exit, _, error) = await TenantCpctl.RunAsync(fixture, "tenant", "resume", name);
        Assert.Equal(1, exit);
        Assert.Contains("FAILED_PRECONDITION", error, StringComparison.Ordinal);
        var (usage, _, usageError) = await TenantCpctl.RunAsync(fixture, "tenant", "register", name, "--placement", "oltp:rls");
        Assert.Equal(2, usage);
        Assert.Contains("--placement", usageError, StringComparison.Ordinal);
    }

    private static async Task<bool> NextStateAsync(AsyncServerStreamingCall<TenantInfo> watch, TenantState state)
    {
        using var cts = new CancellationTokenSource(Patience);
        while (await watch.ResponseStream.MoveNext(cts.Token))
        {
            if (watch.ResponseStream.Current.State == state) return true;
        }
        return false;
    }

    private ControlPlaneClient Client() => new(new Uri(fixture.Endpoint), new ControlPlaneClientOptions { Token = fixture.AdminToken });
}
