using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Mode 3 of issue 21 on real processes: a backend of the primary SIGKILLed, again and again. PostgreSQL restarts its
/// server in place each time (restart_after_crash: the postmaster lives on), which no probe window sees as a death;
/// the third restart within the crash-loop window fails the tier over. Runs in the chaos collection and leaves the
/// tier converged.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class CrashLoopChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan RestartTimeout = TimeSpan.FromSeconds(60);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task A_primary_that_postgresql_restarts_in_place_three_times_within_the_window_is_failed_over()
    {
        await Tier.ResetAsync();
        // A window far longer than a crash recovery on a loaded machine: a failover can only be the crash-loop rule.
        var previous = await Tier.ChangeSettingsAsync(s => s.FailureThreshold = 40);
        try
        {
            await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "crash-loop");
            var start = scenario.Start;
            var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
            var primary = await Tier.InstanceAsync(start.Primary);
            var postmaster = fixture.Driver(start.Primary).PostmasterPid();

            for (var crash = 1; crash <= 2; crash++)
            {
                var serverStarted = await CrashABackendAsync(primary);
                var back = await WaitServerRestartedAsync(primary, serverStarted);
                // The control plane must have probed it since it came back, or the next crash would count as this one.
                await Tier.WaitAsync(t => t.Term == start.Term && t.Replicas.Any(r => r.Name == start.Primary && r.Reachable && r.LastProbeAt.ToDateTimeOffset() > back),
                    RestartTimeout);
                output.WriteLine($"crash {crash}: restarted in place at {back:HH:mm:ss.fff}, postmaster still {fixture.Driver(start.Primary).PostmasterPid()}");
                Assert.Equal(postmaster, fixture.Driver(start.Primary).PostmasterPid());
            }
            Assert.Equal(start.Term, (await Tier.GetAsync()).Term);
            await CrashABackendAsync(primary);

            var after = await Tier.WaitAsync(t => t.Term > start.Term, RestartTimeout);
            var (end, _) = await scenario.FinishAsync(noLossExpected: false);
            var failover = Assert.Single(await Tier.DecisionsAsync(), d => d.Sequence > lastSequence && d.Kind == "automatic_failover");
            output.WriteLine($"decision: {failover.Reason} | {string.Join(" | ", failover.Evidence)} | {string.Join(" | ", failover.Steps)}");
            Assert.Contains(failover.Evidence, e => e.StartsWith($"crash loop: primary {start.Primary} crashed and was restarted in place by PostgreSQL 3 times", StringComparison.Ordinal));
            Assert.Contains(failover.Steps, s => s.Contains($"fenced {start.Primary}", StringComparison.Ordinal));
            Assert.NotEqual(start.Primary, after.Primary);
            Assert.Equal(start.Term + 1, end.Term);
        }
        finally
        {
            await Tier.ChangeSettingsAsync(s => s.FailureThreshold = previous.FailureThreshold);
        }
    }

    /// <summary>SIGKILLs a fresh backend of <paramref name="primary"/>; returns when its server's processes had started.</summary>
    private static async Task<DateTimeOffset> CrashABackendAsync(ChaosInstance primary)
    {
        await using var connection = await primary.OpenAsync(10, 10, CancellationToken.None);
        var (pid, started) = await BackendAndServerStartAsync(connection);
        InstanceProcesses.Signal(pid, InstanceSignal.Kill);
        return started;
    }

    /// <summary>Waits until a new session opens on a server whose processes started after <paramref name="before"/>.</summary>
    private static async Task<DateTimeOffset> WaitServerRestartedAsync(ChaosInstance primary, DateTimeOffset before)
    {
        var deadline = DateTime.UtcNow + RestartTimeout;
        while (true)
        {
            try
            {
                await using var connection = await primary.OpenAsync(5, 5, CancellationToken.None);
                var (_, started) = await BackendAndServerStartAsync(connection);
                if (started > before) return DateTimeOffset.UtcNow;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException)
            {
                // Recovering: "the database system is in recovery mode".
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{primary.Name} did not come back from its crash within {RestartTimeout}");
            await Task.Delay(100);
        }
    }

    private static async Task<(int Pid, DateTimeOffset ServerStarted)> BackendAndServerStartAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(
            "SELECT pg_backend_pid(), (SELECT min(backend_start) FROM pg_stat_activity WHERE backend_type = 'checkpointer')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetFieldValue<DateTimeOffset>(1));
    }
}
