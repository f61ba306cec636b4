using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Failover proven live: real instances are killed and frozen under a real silo while a writer goes through the
/// routing and a history checker samples every instance. Behaviour only; the timings are in bench/BENCHMARKS.md.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class FailoverChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(30);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task Sigkill_of_the_primary_postmaster_fails_over_once_in_a_new_term_and_loses_no_acknowledged_write_in_synchronous_mode()
    {
        await Tier.ResetAsync();
        await Tier.SetSynchronousModeAsync(SynchronousMode.On);
        await Tier.WaitSynchronousStandbysAsync(DecisionTimeout);
        try
        {
            await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "sigkill");
            var start = scenario.Start;
            await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);

            var after = await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
            var (end, _) = await scenario.FinishAsync(noLossExpected: true);

            var failovers = NewDecisions(await Tier.DecisionsAsync(), start.Term).Where(d => d.Kind == "automatic_failover").ToList();
            var failover = Assert.Single(failovers);
            Assert.Equal(start.Term + 1, failover.Term);
            Assert.Equal(start.Primary, failover.OldPrimary);
            Assert.Equal("completed", failover.Outcome);
            Assert.Equal(start.Term + 1, end.Term);
            Assert.NotEqual(start.Primary, after.Primary);
            Assert.Contains(end.Replicas, r => r.Name == start.Primary && r.Role == ReplicaRole.Standby && r.Healthy);

            // The SLA's write probe saw the same outage as the independent writer: at least the writer's gap less
            // one probe interval, at most one interval and one probe timeout more (plus slack for a loaded machine).
            // A failover faster than the probe interval can fall between two probes: then the writer's gap is short too.
            var rto = await SlaWriteOutageAsync(failover.Term);
            var gap = scenario.Writer.LongestGap();
            output.WriteLine($"SLA write outage of the failover {(rto is { } r ? $"{r.TotalMilliseconds:F0} ms" : "none observed")}; the writer's longest gap {gap.TotalMilliseconds:F0} ms");
            if (rto is { } measured) Assert.InRange(measured, gap - TimeSpan.FromSeconds(1.5), gap + TimeSpan.FromSeconds(8));
            else Assert.True(gap < TimeSpan.FromSeconds(2.5), $"the SLA saw no failed write, yet the writer waited {gap.TotalMilliseconds:F0} ms");
        }
        finally
        {
            await Tier.SetSynchronousModeAsync(SynchronousMode.Off);
        }
    }

    /// <summary>
    /// The write outage the SLA report gives the failover into <paramref name="term"/> (null when no probe failed),
    /// once the probe has written a few times after the failover completed.
    /// </summary>
    private async Task<TimeSpan?> SlaWriteOutageAsync(long term)
    {
        var sla = new SlaService.SlaServiceClient(fixture.Invoker);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var report = await sla.GetSlaAsync(new GetSlaRequest { Tier = ChaosSiloFixture.TierName, Period = "1h" }, deadline: DateTime.UtcNow.AddSeconds(10));
            var failover = report.Failovers.FirstOrDefault(f => f.Term == term);
            if (failover?.WriteOutage is { } outage) return outage.ToTimeSpan();
            if (failover is not null && report.WritableNow && report.LastObservedAt.ToDateTimeOffset() > failover.At.ToDateTimeOffset().AddSeconds(5)) return null;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the SLA report has not booked the failover into term {term}: {report}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Sigstop_of_every_primary_process_longer_than_the_threshold_fails_over_and_the_thawed_old_primary_stays_fenced()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "sigstop");
        var start = scenario.Start;
        var old = fixture.Driver(start.Primary);
        await old.SignalAllAsync(InstanceSignal.Stop, CancellationToken.None);
        Tier after;
        try
        {
            after = await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
        }
        finally
        {
            await ThawAsync(old);
        }
        // Right after the thaw: whatever is left of the old primary must not take writes.
        var oldInstance = await Tier.InstanceAsync(start.Primary);
        Assert.False(await IsWritableAsync(oldInstance), $"{start.Primary} accepts writes after SIGCONT although {after.Primary} is the primary of term {after.Term}");

        var (end, missing) = await scenario.FinishAsync(noLossExpected: false);
        output.WriteLine($"asynchronous mode: {missing.Count} acknowledged writes lost by the failover (reported, not asserted)");
        Assert.Single(NewDecisions(await Tier.DecisionsAsync(), start.Term), d => d.Kind == "automatic_failover");
        Assert.Equal(start.Term + 1, end.Term);
        Assert.Equal([end.Primary], scenario.History.WritableInLastRound());
    }

    [Fact]
    public async Task Sigstops_of_the_primary_shorter_than_the_threshold_never_fail_over()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "short-pauses");
        var start = scenario.Start;
        // Earlier scenarios of the shared fixture may have fenced rogues of their own: only decisions after this point count.
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        var primary = fixture.Driver(start.Primary);
        const int Pauses = 5;
        for (var i = 0; i < Pauses; i++)
        {
            await primary.SignalAllAsync(InstanceSignal.Stop, CancellationToken.None);
            try
            {
                // 0.6 s: longer than one probe interval (500 ms), well under three (the default threshold).
                await Task.Delay(TimeSpan.FromMilliseconds(600));
            }
            finally
            {
                await primary.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
            }
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        var (end, _) = await scenario.FinishAsync(noLossExpected: true);
        Assert.Equal(start.Term, end.Term);
        Assert.Equal(start.Primary, end.Primary);
        Assert.DoesNotContain(await Tier.DecisionsAsync(), d => d.Sequence > lastSequence && d.Kind is "automatic_failover" or "fence_rogue");
    }

    [Fact]
    public async Task A_killed_standby_degrades_the_tier_without_failover_and_is_healed_automatically()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "standby-kill");
        var start = scenario.Start;
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        var standby = start.Replicas.First(r => r.Name != start.Primary).Name;
        await fixture.Driver(standby).KillAsync(InstanceSignal.Kill, CancellationToken.None);

        var degraded = await Tier.WaitAsync(t => t.Health == TierHealth.Degraded, DecisionTimeout);
        Assert.Equal(start.Primary, degraded.Primary);
        var heal = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "heal_standby", DecisionTimeout);
        Assert.Contains(standby, heal.Reason, StringComparison.Ordinal);

        var (end, _) = await scenario.FinishAsync(noLossExpected: true);
        Assert.Equal(start.Term, end.Term);
        Assert.Equal(start.Primary, end.Primary);
        Assert.DoesNotContain(NewDecisions(await Tier.DecisionsAsync(), start.Term), d => d.Kind == "automatic_failover");
    }

    [Fact]
    public async Task A_replica_writable_outside_its_term_is_fenced_and_rejoined_leaving_one_writable_primary()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "rogue");
        var start = scenario.Start;
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        var rogue = start.Replicas.Last(r => r.Name != start.Primary).Name;
        // Behind the control plane's back, as an old primary coming back writable would be.
        await fixture.Driver(rogue).PromoteAsync(CancellationToken.None);

        var fence = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "fence_rogue", DecisionTimeout);
        Assert.Contains(rogue, fence.Reason, StringComparison.Ordinal);
        var (end, _) = await scenario.FinishAsync(noLossExpected: true);
        Assert.Equal(start.Term, end.Term);
        Assert.Equal(start.Primary, end.Primary);
        Assert.Equal([end.Primary], scenario.History.WritableInLastRound());
        Assert.Contains(end.Replicas, r => r.Name == rogue && r.Role == ReplicaRole.Standby && r.Healthy);
    }

    [Fact]
    public async Task A_planned_switchover_under_write_load_loses_no_acknowledged_write_and_rejoins_the_old_primary()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "switchover");
        var start = scenario.Start;
        var op = await Tier.Failover.SwitchoverAsync(new SwitchoverRequest { Tier = Tier.Name });
        var done = await Tier.WaitOperationAsync(op.Id, TimeSpan.FromSeconds(60));
        Assert.True(done.State == OperationState.Succeeded, $"switchover failed: {done}");

        var (end, _) = await scenario.FinishAsync(noLossExpected: true);
        Assert.Equal(start.Term + 1, end.Term);
        Assert.NotEqual(start.Primary, end.Primary);
        Assert.Contains(end.Replicas, r => r.Name == start.Primary && r.Role == ReplicaRole.Standby && r.Healthy);
        Assert.Single(NewDecisions(await Tier.DecisionsAsync(), start.Term), d => d.Kind == "switchover");
    }

    [Fact]
    public async Task A_manual_failover_to_a_lagging_standby_without_allow_data_loss_is_refused_with_the_reason()
    {
        await Tier.ResetAsync();
        var start = await Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(start), $"not converged: {start}");
        var target = start.Replicas.Last(r => r.Name != start.Primary).Name;
        var other = start.Replicas.First(r => r.Name != start.Primary && r.Name != target).Name;
        var receiver = WalReceiverPid(fixture.Driver(target));
        InstanceProcesses.Signal(receiver, InstanceSignal.Stop);
        try
        {
            await using (var primary = await (await Tier.InstanceAsync(start.Primary)).OpenAsync(5, 30, CancellationToken.None))
            {
                await using var command = new Npgsql.NpgsqlCommand(
                    "CREATE TABLE IF NOT EXISTS chaos_lag AS SELECT 1 AS n WHERE false; INSERT INTO chaos_lag SELECT generate_series(1, 20000)", primary);
                await command.ExecuteNonQueryAsync();
            }
            // The tier must have seen the gap before the request, or the election would not know of it. The insert
            // writes about a megabyte of WAL; a margin of 256 KiB keeps probe-to-probe noise from passing for the gap.
            await Tier.WaitAsync(t => Lsn(t, other) > Lsn(t, target) + 256 * 1024, DecisionTimeout);

            var op = await Tier.Failover.FailoverAsync(new FailoverRequest { Tier = Tier.Name, Target = target, AllowDataLoss = false });
            var done = await Tier.WaitOperationAsync(op.Id, TimeSpan.FromSeconds(30));
            output.WriteLine($"refusal: {done.Error}");
            Assert.True(done.State == OperationState.Failed && done.Error.Contains(target, StringComparison.Ordinal), $"expected a refusal naming {target}: {done}");
            Assert.Contains("allow data loss", done.Error, StringComparison.Ordinal);
            Assert.Equal(start.Term, (await Tier.GetAsync()).Term);
        }
        finally
        {
            InstanceProcesses.Signal(receiver, InstanceSignal.Continue);
        }
        var end = await Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(end), $"not converged: {end}");
        Assert.Equal(start.Primary, end.Primary);
    }

    [Fact]
    public async Task A_paused_tier_alerts_instead_of_failing_over_and_fails_over_once_resumed()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "paused");
        var start = scenario.Start;
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        await Tier.Failover.PauseTierAsync(new PauseTierRequest { Tier = Tier.Name, Reason = "chaos: maintenance" });
        try
        {
            await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
            var alert = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "alert", DecisionTimeout);
            Assert.Contains("paused", alert.Reason, StringComparison.Ordinal);
            var paused = await Tier.GetAsync();
            Assert.Equal(start.Term, paused.Term);
            Assert.Equal(start.Primary, paused.Primary);
            Assert.Equal(TierHealth.Down, paused.Health);
        }
        finally
        {
            await Tier.Failover.ResumeTierAsync(new ResumeTierRequest { Tier = Tier.Name });
        }
        await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
        var (end, missing) = await scenario.FinishAsync(noLossExpected: false);
        output.WriteLine($"asynchronous mode: {missing.Count} acknowledged writes lost (reported, not asserted)");
        Assert.Equal(start.Term + 1, end.Term);
        Assert.Single(NewDecisions(await Tier.DecisionsAsync(), start.Term), d => d.Kind == "automatic_failover");
    }

    [Fact]
    public async Task After_a_catalog_restart_the_silo_recovers_and_a_later_failover_still_works()
    {
        await Tier.ResetAsync();
        var catalog = await fixture.CatalogDriverAsync();
        await catalog.StopAsync(StopMode.Fast, CancellationToken.None);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
        }
        finally
        {
            await catalog.StartAsync(CancellationToken.None);
        }

        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "catalog-restart");
        var start = scenario.Start;
        await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
        await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
        var (end, missing) = await scenario.FinishAsync(noLossExpected: false);
        output.WriteLine($"asynchronous mode: {missing.Count} acknowledged writes lost (reported, not asserted)");
        Assert.Equal(start.Term + 1, end.Term);
        Assert.Single(NewDecisions(await Tier.DecisionsAsync(), start.Term), d => d.Kind == "automatic_failover");
    }

    private static IEnumerable<Decision> NewDecisions(IEnumerable<Decision> decisions, long startTerm) =>
        decisions.Where(d => d.Term > startTerm || d.Kind is "heal_standby" or "fence_rogue" or "alert");

    private static async Task<bool> IsWritableAsync(ChaosInstance instance)
    {
        try
        {
            await using var connection = await instance.OpenAsync(2, 2, CancellationToken.None);
            await using var command = new Npgsql.NpgsqlCommand("SELECT NOT pg_is_in_recovery()", connection);
            return (bool)(await command.ExecuteScalarAsync())!;
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or IOException)
        {
            return false;
        }
    }

    private static async Task ThawAsync(LocalInstanceDriver driver)
    {
        try
        {
            await driver.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
        }
        catch (InvalidOperationException)
        {
            // Fenced: no process left to thaw, which is the point.
        }
    }

    private static int WalReceiverPid(LocalInstanceDriver driver) =>
        driver.Processes().Select(p => p.Pid).FirstOrDefault(pid =>
            File.Exists($"/proc/{pid}/cmdline") && File.ReadAllText($"/proc/{pid}/cmdline").Contains("walreceiver", StringComparison.Ordinal)) is var found and > 0
            ? found
            : throw new InvalidOperationException($"{driver.Name} has no WAL receiver process");

    /// <summary>How far a replica has WAL, measured as the election measures it: received, else replayed.</summary>
    private static ulong Lsn(Tier t, string replica)
    {
        var r = t.Replicas.Single(x => x.Name == replica);
        return Math.Max(Parse(r.ReceiveLsn), Parse(r.ReplayLsn));

        static ulong Parse(string text)
        {
            if (string.IsNullOrEmpty(text)) return 0;
            var parts = text.Split('/');
            return (Convert.ToUInt64(parts[0], 16) << 32) | Convert.ToUInt64(parts[1], 16);
        }
    }
}
