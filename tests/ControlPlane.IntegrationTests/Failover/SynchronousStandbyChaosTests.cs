using ControlPlane.Cli;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Mode 4 of issue 21 on real processes: every standby of a tier in synchronous mode frozen (SIGSTOP), so no standby
/// confirms a commit. Strict: commits wait and the tier alerts at once, naming the standbys. On, with a delay: commits
/// wait for it, then the tier empties synchronous_standby_names and writes go on; a standby streaming again restores
/// the list. Runs in the chaos collection; the standbys are thawed before the tier's heal would restart them
/// (failure_threshold raised), and the tier is left converged.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class SynchronousStandbyChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private const int DegradeAfterMs = 3000;
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(60);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task Strict_mode_commits_wait_while_no_synchronous_standby_streams_and_the_alert_names_the_lost_standbys_at_once()
    {
        await Tier.ResetAsync();
        // Heal restarts a standby unreachable for 2 x failure_threshold probes: kept far off, so the freeze is what ends.
        var previous = await Tier.ChangeSettingsAsync(s => (s.FailureThreshold, s.SynchronousMode) = (40, SynchronousMode.Strict));
        try
        {
            await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "sync-strict");
            var (primary, standbys, lastSequence) = await SynchronousTierAsync(scenario.Start);
            var frozenAt = DateTimeOffset.UtcNow;
            await FreezeAsync(standbys, InstanceSignal.Stop);
            try
            {
                var waitingSeenAt = await WaitCommitsWaitingAsync(primary);
                var acknowledged = scenario.Writer.Acknowledged.Count;
                var alert = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "alert" && d.Reason.StartsWith("synchronous standby lost", StringComparison.Ordinal), DecisionTimeout);
                output.WriteLine($"alert decision {Ms(alert.At, frozenAt)} ms after the freeze: {alert.Reason} | {string.Join(" | ", alert.Evidence)}");
                foreach (var standby in standbys)
                {
                    Assert.Contains(standby, alert.Reason, StringComparison.Ordinal);
                    var fired = await ChaosAlerts.WaitFiringAsync(fixture.Invoker, scenario.Start.Environment, "SynchronousStandbyLost", standby, DecisionTimeout);
                    output.WriteLine($"alert {fired.Rule} {fired.Severity} firing for {standby}, {(DateTimeOffset.UtcNow - frozenAt).TotalMilliseconds:F0} ms after the freeze");
                }
                // Strict: commits still wait after the alert (the writer gives up on a commit after its 2 s timeout, which
                // cancels that wait, and tries again: so wait for a waiting one), nothing acknowledged since the first
                // commit was seen waiting, the standbys still listed, never degraded.
                await WaitCommitsWaitingAsync(primary);
                Assert.Equal(acknowledged, scenario.Writer.Acknowledged.Count);
                Assert.NotEqual("", await SynchronousStandbyNamesAsync(primary));
                Assert.DoesNotContain(await Tier.DecisionsAsync(), d => d.Sequence > lastSequence && d.Kind == "synchronous_standbys" && d.Reason.Contains("-> ''", StringComparison.Ordinal));
                output.WriteLine($"commits seen waiting {Ms(waitingSeenAt, frozenAt)} ms after the freeze; {acknowledged} acknowledged before, none since");
            }
            finally
            {
                await FreezeAsync(standbys, InstanceSignal.Continue);
            }
            var (end, _) = await scenario.FinishAsync(noLossExpected: true);
            Assert.Equal(scenario.Start.Term, end.Term);
        }
        finally
        {
            await Tier.ChangeSettingsAsync(s => (s.FailureThreshold, s.SynchronousMode) = (previous.FailureThreshold, SynchronousMode.Off));
        }
    }

    [Fact]
    public async Task Mode_on_goes_asynchronous_after_the_degrade_delay_writes_resume_and_a_standby_streaming_again_restores_it_losing_no_acknowledged_write()
    {
        await Tier.ResetAsync();
        var previous = await Tier.ChangeSettingsAsync(s =>
        {
            (s.FailureThreshold, s.SynchronousMode) = (40, SynchronousMode.On);
            s.SynchronousDegradeAfterMs = DegradeAfterMs;
        });
        try
        {
            await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "sync-degrade");
            var (primary, standbys, lastSequence) = await SynchronousTierAsync(scenario.Start);
            var frozenAt = DateTimeOffset.UtcNow;
            await FreezeAsync(standbys, InstanceSignal.Stop);
            try
            {
                var waitingSeenAt = await WaitCommitsWaitingAsync(primary);
                var alert = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "alert" && d.Reason.StartsWith("synchronous standby lost", StringComparison.Ordinal), DecisionTimeout);
                var degrade = await Tier.WaitForDecisionAsync(d => d.Sequence > alert.Sequence && d.Kind == "synchronous_standbys" && d.CompletedAt is not null
                    && d.Reason.Contains("degraded to asynchronous", StringComparison.Ordinal), DecisionTimeout);
                Assert.Equal("completed", degrade.Outcome);
                foreach (var standby in standbys) Assert.Contains(standby, degrade.Reason, StringComparison.Ordinal);
                // The policy's rule, not a speed bound: the tier never gives up on the standbys before the delay.
                Assert.True(degrade.At.ToDateTimeOffset() - alert.At.ToDateTimeOffset() >= TimeSpan.FromMilliseconds(DegradeAfterMs),
                    $"degraded at {degrade.At}, lost at {alert.At}: before synchronous_degrade_after {DegradeAfterMs} ms");
                await scenario.Writer.WaitForAcksAsync(5, DecisionTimeout);
                Assert.Equal("", await SynchronousStandbyNamesAsync(primary));
                var resumed = scenario.Writer.FirstAcknowledgedAfter(waitingSeenAt, notBy: "");
                output.WriteLine($"freeze -> commits seen waiting {Ms(waitingSeenAt, frozenAt)} ms, alert {Ms(alert.At, frozenAt)} ms, "
                    + $"degraded {Ms(degrade.At, frozenAt)} ms (set {Ms(degrade.CompletedAt, frozenAt)} ms), first write acknowledged {(resumed - frozenAt)?.TotalMilliseconds:F0} ms");
                output.WriteLine($"degrade: {degrade.Reason} | {string.Join(" | ", degrade.Steps)}");
            }
            finally
            {
                await FreezeAsync(standbys, InstanceSignal.Continue);
            }
            var restored = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "synchronous_standbys"
                && d.Reason.StartsWith("synchronous standby back", StringComparison.Ordinal) && d.CompletedAt is not null, DecisionTimeout);
            output.WriteLine($"restored: {restored.Reason}");
            var (end, _) = await scenario.FinishAsync(noLossExpected: true);
            output.WriteLine($"longest write gap {scenario.Writer.LongestGap().TotalMilliseconds:F0} ms");
            Assert.Equal(scenario.Start.Term, end.Term);
            Assert.NotEqual("", await SynchronousStandbyNamesAsync(primary));
        }
        finally
        {
            await Tier.ChangeSettingsAsync(s =>
            {
                (s.FailureThreshold, s.SynchronousMode) = (previous.FailureThreshold, SynchronousMode.Off);
                s.SynchronousDegradeAfterMs = previous.SynchronousDegradeAfterMs;
            });
        }
    }

    [Fact]
    public async Task Cpctl_ha_sets_the_failure_mode_settings_and_an_out_of_range_one_is_refused_by_the_gateway_naming_it_and_changing_nothing()
    {
        var before = await Tier.Failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = Tier.Name });
        try
        {
            var (refused, _, error) = await CpctlAsync("ha", Tier.Name, "--synchronous-degrade-after-ms", "3600001", "--crash-loop-window-seconds", "5");
            Assert.NotEqual(0, refused);
            Assert.Contains("settings.synchronous_degrade_after_ms is 3600001; expected 0 (at once) to 3600000 (1 h).", error, StringComparison.Ordinal);
            Assert.Contains("crash_loop_window_seconds is 5; expected 10 to 3600 seconds.", error, StringComparison.Ordinal);
            Assert.Equal(before, await Tier.Failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = Tier.Name }));

            var (exit, shown, setError) = await CpctlAsync("ha", Tier.Name, "--synchronous-degrade-after-ms", "2500", "--crash-loop-count", "4",
                "--crash-loop-window-seconds", "120", "--disk-full-below-bytes", "33554432", "--disk-write-check-below-bytes", "134217728");
            Assert.True(exit == 0, setError);
            Assert.Contains("4 restarts in 120 s", shown, StringComparison.Ordinal);
            var after = await Tier.Failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = Tier.Name });
            Assert.Equal((2500, 4, 120, 33554432L, 134217728L),
                (after.SynchronousDegradeAfterMs, after.CrashLoopCount, after.CrashLoopWindowSeconds, after.DiskFullBelowBytes, after.DiskWriteCheckBelowBytes));
        }
        finally
        {
            await Tier.Failover.SetFailoverSettingsAsync(new SetFailoverSettingsRequest { Tier = Tier.Name, Settings = before });
        }
    }

    private async Task<(int Exit, string Out, string Error)> CpctlAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint.GetLeftPart(UriPartial.Authority), "--token-file", Path.Combine(fixture.DataDirectory, "admin.token")],
            stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Waits until every standby is a synchronous candidate on the primary; the primary, the standbys and the last decision.</summary>
    private async Task<(ChaosInstance Primary, IReadOnlyList<string> Standbys, long LastSequence)> SynchronousTierAsync(Tier start)
    {
        var primary = await Tier.InstanceAsync(start.Primary);
        var standbys = start.Replicas.Where(r => r.Name != start.Primary).Select(r => r.Name).Order(StringComparer.Ordinal).ToList();
        var deadline = DateTime.UtcNow + DecisionTimeout;
        while (await ScalarAsync<long>(primary, "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')") < standbys.Count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the standbys of {start.Primary} did not all become synchronous within {DecisionTimeout}");
            await Task.Delay(200);
        }
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        return (primary, standbys, lastSequence);
    }

    private async Task FreezeAsync(IReadOnlyList<string> standbys, InstanceSignal signal)
    {
        foreach (var standby in standbys) await fixture.Driver(standby).SignalAllAsync(signal, CancellationToken.None);
    }

    /// <summary>Waits until a commit of the writer waits for a synchronous standby (wait event SyncRep).</summary>
    private static async Task<DateTimeOffset> WaitCommitsWaitingAsync(ChaosInstance primary)
    {
        var deadline = DateTime.UtcNow + DecisionTimeout;
        while (await CommitsWaitingAsync(primary) == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no commit on {primary.Name} waited for a synchronous standby within {DecisionTimeout}");
            await Task.Delay(100);
        }
        return DateTimeOffset.UtcNow;
    }

    private static Task<long> CommitsWaitingAsync(ChaosInstance primary) =>
        ScalarAsync<long>(primary, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND query LIKE 'INSERT INTO chaos_writes%'");

    private static Task<string> SynchronousStandbyNamesAsync(ChaosInstance primary) => ScalarAsync<string>(primary, "SHOW synchronous_standby_names");

    private static async Task<T> ScalarAsync<T>(ChaosInstance instance, string sql)
    {
        await using var connection = await instance.OpenAsync(5, 10, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static string Ms(Google.Protobuf.WellKnownTypes.Timestamp? at, DateTimeOffset from) =>
        at is null ? "-" : Ms(at.ToDateTimeOffset(), from);

    private static string Ms(DateTimeOffset at, DateTimeOffset from) => $"{(at - from).TotalMilliseconds:F0}";
}
