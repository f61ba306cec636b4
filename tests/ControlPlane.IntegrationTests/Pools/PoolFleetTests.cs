using System.Text.Json;
using ControlPlane.Cli;
using ControlPlane.Client;
using ControlPlane.Client.Pools;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Pools;

/// <summary>
/// Pools on the real local fleet, through the real gateway and ControlPlaneDataSource. Uses the queue and content
/// tiers (never fails over: the shared fixture's other tests expect every tier healthy with its first primary).
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class PoolFleetTests(SiloFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Three_services_with_different_plans_run_queries_within_their_grants_and_the_budget_shows_them()
    {
        using var client = Client();
        var budget0 = await WaitForBudgetAsync(client, "queue", b => b.Primary.Length > 0 && b.Capacity > 0);
        await using var acme = await SourceAsync(client, "queue", "acme", "mailer", 60);
        await using var globex = await SourceAsync(client, "queue", "globex", "billing", 60);
        await using var initech = await SourceAsync(client, "queue", "initech", "reports", 60);

        // Plans cap them at 40, 20 and 10 (demo tenants), and the sum never exceeds the capacity.
        Assert.InRange(acme.Grant, 5, 40);
        Assert.InRange(globex.Grant, 2, 20);
        Assert.InRange(initech.Grant, 1, 10);
        Assert.True(acme.Grant + globex.Grant + initech.Grant <= budget0.Capacity);
        Assert.True(acme.Grant >= globex.Grant && globex.Grant >= initech.Grant);

        // Real queries, several at once per service, each on a connection tagged with its lease.
        var work = new[] { acme, globex, initech }.SelectMany(source => Enumerable.Range(0, 3).Select(async _ =>
        {
            await using var connection = await source.OpenConnectionAsync();
            await using var cmd = new NpgsqlCommand("SELECT current_setting('application_name'), pg_sleep(0.2)::text", connection);
            return (source.LeaseId, Tag: (string)(await cmd.ExecuteScalarAsync())!);
        })).ToList();
        foreach (var (leaseId, tag) in await Task.WhenAll(work)) Assert.StartsWith($"cp:{leaseId}:", tag, StringComparison.Ordinal);

        // Hold one connection each so the sampler sees them, then read the budget over gRPC and through cpctl.
        await using var held = await acme.OpenConnectionAsync();
        var budget = await WaitForBudgetAsync(client, "queue", b => Tenant(b, "acme").Connections >= 1 && Tenant(b, "acme").InUse >= 1);
        Assert.Equal(acme.Grant, Tenant(budget, "acme").Granted);
        Assert.Equal(globex.Grant, Tenant(budget, "globex").Granted);
        Assert.Equal(0, Tenant(budget, "acme").Overruns);

        var json = await CpctlAsync("pool", "queue", "--json");
        using var doc = JsonDocument.Parse(json);
        Assert.True(doc.RootElement.GetProperty("capacity").GetInt32() > 0);
        var tenants = doc.RootElement.GetProperty("tenants").EnumerateArray().ToList();
        Assert.Contains(tenants, t => t.GetProperty("tenant").GetString() == "acme" && t.GetProperty("granted").GetInt32() == acme.Grant);
        Assert.Contains("acme", await CpctlAsync("pool", "queue"), StringComparison.Ordinal);
        Assert.Contains(acme.LeaseId, await CpctlAsync("lease", "list", "queue"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tenant_plan_change_rebalances_live_grants_and_the_holder_follows()
    {
        using var client = Client();
        await WaitForBudgetAsync(client, "content", b => b.Capacity > 0);
        var tenant = "rebalance-" + Guid.NewGuid().ToString("N")[..6];
        await RegisterAsync(client, tenant, "content", 1, 3);
        await using var source = await SourceAsync(client, "content", tenant, "api", 20);
        Assert.Equal(3, source.Grant);
        var changes = new List<string>();
        source.Changed += reason => { lock (changes) changes.Add(reason); };

        await client.Pools.UpdateTenantPlanAsync(new UpdateTenantPlanRequest
        {
            Tenant = tenant,
            Plan = new TenantPlan { Tier = "content", Weight = 1, Min = 1, Max = 8 },
        });

        await Eventually(() => source.Grant == 8, "the data source to follow the new grant");
        lock (changes) Assert.Contains(changes, c => c.Contains("3 -> 8", StringComparison.Ordinal));
        var decisions = await client.Pools.ListPoolDecisionsAsync(new ListPoolDecisionsRequest { Tier = "content" });
        Assert.Contains(decisions.Decisions, d => d.Kind == "rebalance" && d.Reason.Contains($"plan of {tenant} changed", StringComparison.Ordinal));
        await using var connection = await source.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", connection);
        Assert.Equal(1, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_service_leaking_idle_transactions_is_flagged_then_terminated_when_the_policy_says_so()
    {
        using var client = Client();
        await WaitForBudgetAsync(client, "queue", b => b.Capacity > 0);
        var original = (await client.Pools.GetPoolBudgetAsync(new GetPoolBudgetRequest { Tier = "queue" })).Settings;
        try
        {
            await SetPolicyAsync(client, original, suspect: 1, terminate: 0);
            await using var leaky = await SourceAsync(client, "queue", "initech", "leaky", 2);
            var leaked = await leaky.OpenConnectionAsync();
            await using (var begin = new NpgsqlCommand("BEGIN; SELECT 1;", leaked)) await begin.ExecuteNonQueryAsync();

            var flagged = await WaitForBudgetAsync(client, "queue", b => Tenant(b, "initech").LeakSuspects >= 1);
            Assert.Contains(flagged.Alerts, a => a.StartsWith($"leak suspect: lease {leaky.LeaseId}", StringComparison.Ordinal));
            // The alert reaches the tier's watch stream too (GetTier reads the same versioned snapshot).
            await Eventually(async () => (await client.Fleet.GetTierAsync(new GetTierRequest { Tier = "queue" }))
                .PoolAlert.Contains($"leak suspect: lease {leaky.LeaseId}", StringComparison.Ordinal), "the leak alert on the tier");
            // And the alert engine raises it as a structured alert (rule + labels), the one way alerts are raised.
            await AlertWaits.FiringAsync(client.CallInvoker, "local", "PoolLeakSuspect", QueueLabels, Patience);

            await SetPolicyAsync(client, original, suspect: 1, terminate: 3);
            await Eventually(async () =>
            {
                var decisions = await client.Pools.ListPoolDecisionsAsync(new ListPoolDecisionsRequest { Tier = "queue", Limit = 200 });
                return decisions.Decisions.Any(d => d.Kind == "terminate" && d.Reason.Contains(leaky.LeaseId, StringComparison.Ordinal));
            }, "a terminate decision for the leaking lease");
            await Eventually(async () =>
            {
                try
                {
                    await using var probe = new NpgsqlCommand("SELECT 1", leaked);
                    await probe.ExecuteScalarAsync();
                    return false;
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    return true;
                }
            }, "the leaked session to be terminated");
            await leaked.DisposeAsync();
            await AlertWaits.ResolvedAsync(client.CallInvoker, "local", "PoolLeakSuspect", QueueLabels, Patience);
        }
        finally
        {
            await client.Pools.SetPoolSettingsAsync(new SetPoolSettingsRequest { Tier = "queue", Settings = original });
        }
    }

    [Fact]
    public async Task A_service_whose_grant_is_too_small_for_its_concurrency_shows_its_open_wait_in_the_budget()
    {
        using var client = Client();
        await WaitForBudgetAsync(client, "content", b => b.Capacity > 0);
        var tenant = "waiter-" + Guid.NewGuid().ToString("N")[..6];
        await RegisterAsync(client, tenant, "content", 1, 1);
        await using var source = await SourceAsync(client, "content", tenant, "api", 1);
        Assert.Equal(1, source.Grant);

        // The grant's one connection is held for a second: the second open waits for it to come back.
        var held = await source.OpenConnectionAsync();
        var second = source.OpenConnectionAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(second.IsCompleted, "the second open should wait for the grant's only connection");
        await held.DisposeAsync();
        await using (await second) { }

        // Not a speed bound: the wait cannot be shorter than the second the connection was held.
        // The budget keeps a minute of reports: the wait stays visible after the intervals without opens that follow.
        var budget = await WaitForBudgetAsync(client, "content", b => Tenant(b, tenant).OpenWaitSecondsMax >= 0.9);
        await Task.Delay(TimeSpan.FromSeconds(2));
        budget = await client.Pools.GetPoolBudgetAsync(new GetPoolBudgetRequest { Tier = "content" });
        Assert.InRange(Tenant(budget, tenant).OpenWaitSecondsMax, 0.9, 30);
        Assert.True(Tenant(budget, tenant).OpenWaitSecondsMean > 0);
        Assert.Contains(" ms", await CpctlAsync("pool", "content"), StringComparison.Ordinal);

        var invalid = await Assert.ThrowsAsync<RpcException>(() => client.Pools.ReportPoolStatsAsync(new ReportPoolStatsRequest
        {
            Tenant = tenant, LeaseId = source.LeaseId, Opens = 1, OpenWaitSecondsMax = double.NaN, OpenWaitSecondsTotal = 1,
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("open_wait_seconds_max", invalid.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lease_holding_more_connections_than_granted_fires_PoolLeaseOverrun_until_it_lets_go()
    {
        using var client = Client();
        await WaitForBudgetAsync(client, "content", b => b.Capacity > 0 && b.Primary.Length > 0);
        var tenant = "overrun-" + Guid.NewGuid().ToString("N")[..6];
        await RegisterAsync(client, tenant, "content", 1, 1);
        var lease = await client.Pools.AcquireLeaseAsync(new AcquireLeaseRequest { Tier = "content", Tenant = tenant, Service = "rogue", Requested = 1 });
        Assert.Equal(1, lease.Granted);
        var labels = new Dictionary<string, string> { ["environment"] = "local", ["tier"] = "content" };

        // A holder that ignores its grant: two sessions under the lease's tag where one is granted.
        var tier = await client.Fleet.GetTierAsync(new GetTierRequest { Tier = "content" });
        var primary = tier.Replicas.Single(r => r.Name == tier.Primary);
        var rogue = new NpgsqlConnectionStringBuilder
        {
            Host = primary.Host, Port = primary.Port, Username = "postgres", Database = "postgres", Pooling = false, SslMode = SslMode.Require,
            Password = SecretFile.Read(new LocalFleetOptions(fixture.DataDirectory).SuperuserPasswordFile("content")),
            ApplicationName = lease.Tag,
        }.ConnectionString;
        var sessions = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var session = new NpgsqlConnection(rogue);
                await session.OpenAsync();
                sessions.Add(session);
            }
            var fired = await AlertWaits.FiringAsync(client.CallInvoker, "local", "PoolLeaseOverrun", labels, Patience);
            Assert.True(fired.Value >= 1, $"value {fired.Value}");
            Assert.Equal("warning", fired.Severity);
        }
        finally
        {
            foreach (var session in sessions) await session.DisposeAsync();
            await client.Pools.ReleaseLeaseAsync(new LeaseRequest { Tenant = tenant, LeaseId = lease.LeaseId });
        }
        await AlertWaits.ResolvedAsync(client.CallInvoker, "local", "PoolLeaseOverrun", labels, Patience);
    }

    [Fact]
    public async Task A_newcomer_whose_minimum_cannot_fit_is_refused_and_nothing_is_over_committed()
    {
        using var client = Client();
        var budget = await WaitForBudgetAsync(client, "olap", b => b.Capacity > 0);
        var tenant = "hog-" + Guid.NewGuid().ToString("N")[..6];
        await RegisterAsync(client, tenant, "olap", budget.Capacity + 1, budget.Capacity + 1);
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.Pools.AcquireLeaseAsync(new AcquireLeaseRequest
        {
            Tier = "olap", Tenant = tenant, Service = "batch", Requested = budget.Capacity + 1,
        }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("minimums need", refused.Status.Detail, StringComparison.Ordinal);
        var after = await client.Pools.GetPoolBudgetAsync(new GetPoolBudgetRequest { Tier = "olap" });
        Assert.True(after.Granted <= after.Capacity);

        var invalid = await Assert.ThrowsAsync<RpcException>(() => client.Pools.AcquireLeaseAsync(new AcquireLeaseRequest
        {
            Tier = "olap", Tenant = tenant, Service = "batch", Requested = 0,
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Contains("requested 0", invalid.Status.Detail, StringComparison.Ordinal);
    }

    private static readonly Dictionary<string, string> QueueLabels = new() { ["environment"] = "local", ["tier"] = "queue" };

    /// <summary>A tenant with one plan (weight 1) on one tier.</summary>
    private static async Task RegisterAsync(ControlPlaneClient client, string tenant, string tier, int min, int max) =>
        await client.Pools.RegisterTenantAsync(new RegisterTenantRequest
        {
            Tenant = tenant,
            Plans = { new TenantPlan { Tier = tier, Weight = 1, Min = min, Max = max } },
        });

    private ControlPlaneClient Client() => new(new Uri(fixture.Endpoint), new ControlPlaneClientOptions { Token = fixture.AdminToken });

    private async Task<ControlPlaneDataSource> SourceAsync(ControlPlaneClient client, string tier, string tenant, string service, int requested) =>
        await ControlPlaneDataSource.CreateAsync(client, new ControlPlaneDataSourceOptions
        {
            Tier = tier,
            Tenant = tenant,
            Service = service,
            Requested = requested,
            StatsInterval = TimeSpan.FromMilliseconds(500),
            Connection = new NpgsqlConnectionStringBuilder
            {
                Username = "postgres",
                Password = SecretFile.Read(new LocalFleetOptions(fixture.DataDirectory).SuperuserPasswordFile(tier)),
                Database = "postgres",
                Timeout = 5,
                CommandTimeout = 10,
            },
        });

    private static async Task SetPolicyAsync(ControlPlaneClient client, PoolSettings original, int suspect, int terminate)
    {
        var settings = original.Clone();
        settings.LeakSuspectSeconds = suspect;
        settings.TerminateIdleInTransactionSeconds = terminate;
        await client.Pools.SetPoolSettingsAsync(new SetPoolSettingsRequest { Tier = "queue", Settings = settings });
    }

    private static TenantBudget Tenant(PoolBudget budget, string tenant) =>
        budget.Tenants.FirstOrDefault(t => t.Tenant == tenant) ?? new TenantBudget { Tenant = tenant };

    private static async Task<PoolBudget> WaitForBudgetAsync(ControlPlaneClient client, string tier, Func<PoolBudget, bool> condition)
    {
        PoolBudget? last = null;
        await Eventually(async () => condition(last = await client.Pools.GetPoolBudgetAsync(new GetPoolBudgetRequest { Tier = tier })),
            $"the {tier} budget to match");
        return last!;
    }

    private static Task Eventually(Func<bool> condition, string what) => Eventually(() => Task.FromResult(condition()), what);

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {Patience} for {what}");
            await Task.Delay(200);
        }
    }

    private async Task<string> CpctlAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, stderr, CancellationToken.None);
        Assert.True(exit == 0, $"cpctl {string.Join(' ', args)} exited {exit}: {stderr}");
        return stdout.ToString();
    }
}
