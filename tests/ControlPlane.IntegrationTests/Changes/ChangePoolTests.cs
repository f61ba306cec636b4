using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>A rollout's sessions come out of the tier's pool budget, through a lease like any service's.</summary>
[Collection(ChangeFleetCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ChangePoolTests(ChangeFleetFixture fleet, ITestOutputHelper output)
{
    private const string Hog = "chg-hog";

    [Fact]
    public async Task A_rollout_waits_while_the_pool_is_full_then_never_runs_more_targets_at_once_than_its_lease_grants()
    {
        // The name the control plane's own leases carry is no tenant's to take.
        var reserved = await Assert.ThrowsAsync<RpcException>(() => fleet.Pools.RegisterTenantAsync(new RegisterTenantRequest
        {
            Tenant = "controlplane", Plans = { new TenantPlan { Tier = ChangeFleetFixture.Tier, Weight = 1, Min = 1, Max = 1 } },
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, reserved.StatusCode);
        Assert.Contains("reserved", reserved.Status.Detail, StringComparison.Ordinal);
        var leased = await Assert.ThrowsAsync<RpcException>(() => fleet.Pools.AcquireLeaseAsync(new AcquireLeaseRequest
        {
            Tier = ChangeFleetFixture.Tier, Tenant = "controlplane", Service = "mine", Requested = 1,
        }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, leased.StatusCode);

        // A tenant whose lease takes every connection the primary can lend.
        await fleet.EnsureLedgerAsync();
        await fleet.CatchUpAsync();
        try
        {
            await fleet.Pools.RegisterTenantAsync(new RegisterTenantRequest
            {
                Tenant = Hog, Plans = { new TenantPlan { Tier = ChangeFleetFixture.Tier, Weight = 1000, Min = 10_000, Max = 10_000 } },
            });
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.AlreadyExists)
        {
        }
        var budget = await fleet.Pools.GetPoolBudgetAsync(new GetPoolBudgetRequest { Tier = ChangeFleetFixture.Tier });
        var lendable = budget.Capacity - budget.Unmanaged;
        Assert.True(lendable > 4, $"the tier lends {lendable} connections; the test needs more than 4");
        var hog = await fleet.Pools.AcquireLeaseAsync(new AcquireLeaseRequest
        {
            Tier = ChangeFleetFixture.Tier, Tenant = Hog, Service = "hog", Requested = lendable, TtlSeconds = 600,
        });
        try
        {
            var v = fleet.NextVersion();
            var forward = ChangeFleetFixture.File($"V{v}__pooled.sql", $"CREATE TABLE pooled_{v} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n");
            var change = await fleet.SubmitApprovedAsync("pooled rollout", forward);
            await fleet.Admin.RolloutChangeAsync(new RolloutChangeRequest { ChangeId = change.ChangeId, CanaryTargets = 0, BatchSize = 51, Concurrency = 8, Pause = new Duration() });
            var waiting = await fleet.WaitAsync(change.ChangeId,
                c => c.History.Any(h => h.Event.Contains("waits for sessions from the tier's pool", StringComparison.Ordinal)));
            Assert.Equal(ChangePhase.RollingOut, waiting.Phase);
            Assert.All(waiting.Targets, t => Assert.Equal(ChangeTargetState.Pending, t.State));

            // The hog's plan shrinks: three connections come free, and the change's lease gets them (weight 1, min 1).
            await fleet.Pools.UpdateTenantPlanAsync(new UpdateTenantPlanRequest
            {
                Tenant = Hog, Plan = new TenantPlan { Tier = ChangeFleetFixture.Tier, Weight = 1000, Min = lendable - 3, Max = lendable - 3 },
            });
            var done = await fleet.WaitAsync(change.ChangeId, ChangeFleetFixture.Settled);
            Assert.True(done.Phase == ChangePhase.Completed, $"ended {done.Phase}: {done.HaltReason}");
            Assert.All(done.Targets, t => Assert.Equal(ChangeTargetState.Applied, t.State));
            fleet.AppliedFiles.Add(forward);

            var batch = Assert.Single(done.History, h => h.Event.StartsWith("batch 1 (", StringComparison.Ordinal)).Event;
            output.WriteLine(batch[..Math.Min(batch.Length, 160)]);
            var match = System.Text.RegularExpressions.Regex.Match(batch, @"^batch 1 \((\d+) at once under pool lease oltp\.controlplane\.\d+, granted (\d+) of 8\)");
            Assert.True(match.Success, batch);
            var (atOnce, granted) = (int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value));
            // Three connections were freed; the unmanaged sessions of the moment may move that by one.
            Assert.InRange(granted, 1, 4);
            Assert.Equal(granted, atOnce);

            // Released when the batch ended: the control plane holds no lease of the tier any more.
            var leases = await fleet.Pools.ListLeasesAsync(new ListLeasesRequest { Tier = ChangeFleetFixture.Tier });
            Assert.DoesNotContain(leases.Leases, l => l.Tenant == "controlplane" && l.State == LeaseState.Active);
            var decisions = await fleet.Pools.ListPoolDecisionsAsync(new ListPoolDecisionsRequest { Tier = ChangeFleetFixture.Tier, Limit = 200 });
            Assert.Contains(decisions.Decisions, d => d.ToString().Contains($"change {change.ChangeId}", StringComparison.Ordinal));
        }
        finally
        {
            await fleet.Pools.ReleaseLeaseAsync(new LeaseRequest { Tenant = Hog, LeaseId = hog.LeaseId });
        }
    }
}
