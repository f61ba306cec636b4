using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Mode 2 of issue 21 on real processes: the primary's data directory on a small tmpfs, filled by a writer until
/// PostgreSQL fails writes with disk_full (53100). Runs in the chaos collection and leaves the tier converged: the
/// old primary is unmounted and rebuilt from the new one.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class DiskFullChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private const long Headroom = 24L * 1024 * 1024;
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(60);
    // The tier heals an unreachable standby one minute after its last rejoin at the soonest, then a base backup.
    private static readonly TimeSpan RebuildTimeout = TimeSpan.FromMinutes(3);
    private TierControl Tier => fixture.Tier;

    [RootFact]
    public async Task A_primary_whose_disk_fills_is_failed_over_to_a_standby_with_space_and_the_disk_full_alert_names_it()
    {
        await Tier.ResetAsync();
        var before = await Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(before), $"the tier must be converged before the scenario: {before}");
        var full = before.Primary;
        var driver = fixture.Driver(full);
        SmallDisk? disk = null;
        try
        {
            // Moving a data directory needs its instance stopped; paused, the tier does not fail it over meanwhile.
            await Tier.Failover.PauseTierAsync(new PauseTierRequest { Tier = Tier.Name, Reason = "disk-full chaos test: moving the primary onto a small tmpfs" });
            await driver.StopAsync(StopMode.Fast, CancellationToken.None);
            disk = await SmallDisk.MoveOntoAsync(driver, Headroom);
            await driver.StartAsync(CancellationToken.None);
            // Resumed only once the tier saw it answer again: a resume acts at once on a primary it last saw failed.
            await Tier.WaitAsync(t => t.Replicas.Any(r => r.Name == full && r.Healthy && r.Role == ReplicaRole.Primary && r.ConsecutiveFailures == 0), TierControl.ConvergeTimeout);
            await Tier.Failover.ResumeTierAsync(new ResumeTierRequest { Tier = Tier.Name });
            output.WriteLine($"{full}'s data directory is on a {disk.SizeBytes} byte tmpfs");

            await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "disk-full");
            var start = scenario.Start;
            Assert.Equal(full, start.Primary);
            var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();

            var fillError = await FillAsync(await Tier.InstanceAsync(full));
            output.WriteLine($"the filler stopped on: {fillError}");
            var after = await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
            var failover = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "automatic_failover" && d.CompletedAt is not null, DecisionTimeout);
            output.WriteLine($"decision: {failover.Reason} | {string.Join(" | ", failover.Evidence)} | {string.Join(" | ", failover.Steps)}");
            Assert.Equal(full, failover.OldPrimary);
            Assert.NotEqual(full, after.Primary);
            Assert.Contains(failover.Evidence, e => e.Contains("disk write checks with disk full (53100", StringComparison.Ordinal));

            var alert = await ChaosAlerts.WaitFiringAsync(fixture.Invoker, after.Environment, "ReplicaDiskFull", full, DecisionTimeout);
            output.WriteLine($"alert: {alert.Rule} {alert.State} {alert.Fingerprint}: {alert.Summary}");
            Assert.Equal("critical", alert.Severity);

            // The old primary off its tmpfs, its data directory empty: the tier rebuilds it from the new primary
            // (after its rejoin grace), as it would a standby whose disk was replaced.
            await DropFillAsync(await Tier.InstanceAsync(after.Primary));
            await disk.DisposeAsync();
            disk = null;
            await Tier.WaitAsync(TierControl.IsConverged, RebuildTimeout);
            var (end, missing) = await scenario.FinishAsync(noLossExpected: false);
            output.WriteLine($"asynchronous mode: {missing.Count} acknowledged writes lost (reported, not asserted)");
            Assert.Equal(start.Term + 1, end.Term);
        }
        finally
        {
            var tier = await Tier.GetAsync();
            if (tier.Paused) await Tier.Failover.ResumeTierAsync(new ResumeTierRequest { Tier = Tier.Name });
            if (disk is not null)
            {
                // Failed half way: the instance must leave the tmpfs whatever happened, and be rebuilt from whichever replica is the primary.
                if (tier.Primary == full)
                {
                    var op = await Tier.Failover.FailoverAsync(new FailoverRequest { Tier = Tier.Name, AllowDataLoss = true });
                    await Tier.WaitOperationAsync(op.Id, TimeSpan.FromMinutes(2));
                    tier = await Tier.GetAsync();
                }
                await disk.DisposeAsync();
                await Tier.WaitAsync(TierControl.IsConverged, RebuildTimeout, throwOnTimeout: false);
            }
        }
    }

    /// <summary>Inserts uncompressed rows until the server refuses: disk_full expected; returns the error.</summary>
    private static async Task<string> FillAsync(ChaosInstance primary)
    {
        await using var connection = await primary.OpenAsync(5, 60, CancellationToken.None);
        await Execute(connection, "CREATE TABLE IF NOT EXISTS disk_fill (pad text); ALTER TABLE disk_fill ALTER COLUMN pad SET STORAGE PLAIN");
        for (var i = 0; i < 1000; i++)
        {
            try
            {
                // About 10 MB a statement: four 1800-byte rows a page, never compressed (STORAGE PLAIN).
                await Execute(connection, "INSERT INTO disk_fill SELECT repeat('x', 1800) FROM generate_series(1, 5000)");
            }
            catch (PostgresException ex)
            {
                return $"{ex.SqlState}: {ex.MessageText}";
            }
        }
        throw new InvalidOperationException("1000 fill statements and the disk is not full");
    }

    private static async Task DropFillAsync(ChaosInstance primary)
    {
        await using var connection = await primary.OpenAsync(5, 60, CancellationToken.None);
        await Execute(connection, "DROP TABLE IF EXISTS disk_fill");
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
