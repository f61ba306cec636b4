using System.Collections.Concurrent;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Failure modes the pooled probe alone cannot see or must not act on, caused for real: a frozen postmaster whose
/// existing sessions still work, a primary with every connection slot taken, a postmaster SIGKILL judged certain
/// death. Runs in the chaos collection (alone) on its shared tier and leaves the tier converged.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class SessionFailureChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(30);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task A_primary_whose_postmaster_alone_is_frozen_is_failed_over_and_its_surviving_sessions_are_fenced_before_the_promotion()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "postmaster-stop", freshConnectionPerWrite: true);
        var start = scenario.Start;
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        var oldInstance = await Tier.InstanceAsync(start.Primary);
        // A session opened before the freeze: it keeps writing to the old primary until the fence kills it.
        await using var survivor = await SurvivorWriter.StartAsync(oldInstance, "survivor-" + Guid.NewGuid().ToString("N")[..6]);
        await survivor.WaitForAcksAsync(5, TimeSpan.FromSeconds(10));

        var driver = fixture.Driver(start.Primary);
        var postmaster = InstanceProcesses.Read(driver.PostmasterPid() ?? throw new InvalidOperationException("no postmaster.pid"))
            ?? throw new InvalidOperationException("the postmaster does not run");
        InstanceProcesses.Signal(postmaster.Pid, InstanceSignal.Stop);
        Tier after;
        try
        {
            after = await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
        }
        finally
        {
            // Fenced, it is gone; should the test fail before that, thaw it so the tier can heal.
            if (!InstanceProcesses.HasExited(postmaster)) InstanceProcesses.Signal(postmaster.Pid, InstanceSignal.Continue);
        }
        await survivor.WaitEndedAsync(DecisionTimeout);
        output.WriteLine($"survivor: {survivor.Acknowledged} writes acknowledged by the frozen primary's session, last at {survivor.LastAck:HH:mm:ss.fff}, ended by: {survivor.EndedBy}");

        var (end, missing) = await scenario.FinishAsync(noLossExpected: false);
        output.WriteLine($"asynchronous mode: {missing.Count} acknowledged writes lost (reported, not asserted)");
        var failover = Assert.Single(await Tier.DecisionsAsync(), d => d.Sequence > lastSequence && d.Kind == "automatic_failover");
        output.WriteLine($"decision: {failover.Reason} | {string.Join(" | ", failover.Evidence)} | {string.Join(" | ", failover.Steps)}");
        Assert.Contains(failover.Evidence, e => e.Contains("opened no new session", StringComparison.Ordinal));
        Assert.Equal(start.Primary, failover.OldPrimary);
        Assert.Contains(failover.Steps, s => s.Contains($"fenced {start.Primary}", StringComparison.Ordinal));
        Assert.Equal(start.Term + 1, end.Term);
        Assert.NotEqual(start.Primary, after.Primary);

        // The surviving session is gone, and it wrote nothing after the new primary first took writes.
        Assert.True(survivor.Ended, "the session opened before the freeze still works after the failover");
        var firstWritable = scenario.History.Samples
            .Where(s => s.Replica == after.Primary && s.Writable).Select(s => s.At).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
        Assert.True(survivor.LastAck < firstWritable,
            $"the old primary's session acknowledged a write at {survivor.LastAck:HH:mm:ss.fff}, after {after.Primary} was writable at {firstWritable:HH:mm:ss.fff}");
        Assert.Contains(end.Replicas, r => r.Name == start.Primary && r.Role == ReplicaRole.Standby && r.Healthy);
    }

    [Fact]
    public async Task Too_many_clients_on_the_primary_raises_a_pool_pressure_alert_shown_by_get_replica_and_never_fails_over()
    {
        await Tier.ResetAsync();
        var start = await Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(start), $"not converged: {start}");
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        var primary = await Tier.InstanceAsync(start.Primary);
        var held = new List<NpgsqlConnection>();
        try
        {
            // Take every slot, superuser-reserved ones included, until the server says 53300.
            var refused = false;
            for (var i = 0; i < 200 && !refused; i++)
            {
                try
                {
                    held.Add(await primary.OpenAsync(5, 5, CancellationToken.None));
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.TooManyConnections)
                {
                    refused = true;
                }
            }
            Assert.True(refused, $"{start.Primary} still took sessions after {held.Count}");
            output.WriteLine($"{held.Count} idle sessions fill {start.Primary}");

            var alert = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "alert" && d.Reason.StartsWith("pool pressure", StringComparison.Ordinal), DecisionTimeout);
            output.WriteLine($"alert: {alert.Reason} | {string.Join(" | ", alert.Evidence)}");
            Assert.Contains("53300", alert.Reason, StringComparison.Ordinal);
            var replica = await Tier.Fleet.GetReplicaAsync(new GetReplicaRequest { Tier = Tier.Name, Replica = start.Primary });
            Assert.Equal("too_many_clients", replica.Session);
            Assert.Contains("53300", replica.SessionError, StringComparison.Ordinal);
            // The alert decision is recorded before the tier publishes the snapshot that carries it.
            var tier = await Tier.WaitAsync(t => t.Alert.StartsWith("pool pressure", StringComparison.Ordinal), DecisionTimeout);
            Assert.StartsWith("pool pressure", tier.Alert, StringComparison.Ordinal);

            // Well past the window (threshold × interval): still the same primary, same term.
            await Task.Delay(TimeSpan.FromSeconds(4));
            var during = await Tier.GetAsync();
            Assert.Equal(start.Term, during.Term);
            Assert.Equal(start.Primary, during.Primary);
        }
        finally
        {
            foreach (var connection in held) await connection.DisposeAsync();
        }
        var end = await Tier.WaitAsync(t => TierControl.IsConverged(t) && t.Alert.Length == 0, TierControl.ConvergeTimeout);
        Assert.Equal(start.Term, end.Term);
        Assert.Equal(start.Primary, end.Primary);
        Assert.DoesNotContain(await Tier.DecisionsAsync(), d => d.Sequence > lastSequence && d.Kind is "automatic_failover" or "fence_rogue");
    }

    [Fact]
    public async Task A_killed_postmaster_is_failed_over_on_certain_death_without_waiting_for_the_probe_window()
    {
        await Tier.ResetAsync();
        // A window far longer than certain death needs: a failover that happens anyway can only be the certain-death rule.
        var previous = await Tier.ChangeSettingsAsync(s => s.FailureThreshold = 40);
        try
        {
            await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "certain-death");
            var start = scenario.Start;
            var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
            await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
            await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
            var (end, _) = await scenario.FinishAsync(noLossExpected: false);
            var failover = Assert.Single(await Tier.DecisionsAsync(), d => d.Sequence > lastSequence && d.Kind == "automatic_failover");
            output.WriteLine($"decision: {string.Join(" | ", failover.Evidence)} | {string.Join(" | ", failover.Steps)}");
            Assert.Contains(failover.Evidence, e => e.Contains("certain death", StringComparison.Ordinal));
            Assert.Equal(start.Term + 1, end.Term);
        }
        finally
        {
            await Tier.ChangeSettingsAsync(s => s.FailureThreshold = previous.FailureThreshold);
        }
    }

    /// <summary>One long-lived session that writes until it breaks: what a pooled client of the old primary does.</summary>
    private sealed class SurvivorWriter : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly string _run;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<DateTimeOffset> _acks = new();
        private Task _loop = Task.CompletedTask;

        private SurvivorWriter(NpgsqlConnection connection, string run)
        {
            _connection = connection;
            _run = run;
        }

        public int Acknowledged => _acks.Count;
        public DateTimeOffset LastAck => _acks.LastOrDefault();
        public bool Ended => _loop.IsCompleted && EndedBy is not null;
        public string? EndedBy { get; private set; }

        public static async Task<SurvivorWriter> StartAsync(ChaosInstance instance, string run)
        {
            var writer = new SurvivorWriter(await instance.OpenAsync(5, 5, CancellationToken.None), run);
            writer._loop = Task.Run(writer.LoopAsync);
            return writer;
        }

        public async Task WaitForAcksAsync(int count, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (_acks.Count < count)
            {
                if (DateTime.UtcNow > deadline || _loop.IsCompleted) throw new TimeoutException($"survivor {_run}: {_acks.Count} writes, ended by {EndedBy}");
                await Task.Delay(20);
            }
        }

        public async Task WaitEndedAsync(TimeSpan timeout) => await Task.WhenAny(_loop, Task.Delay(timeout));

        private async Task LoopAsync()
        {
            for (long id = 1; !_stop.IsCancellationRequested; id++)
            {
                try
                {
                    await using var command = new NpgsqlCommand("INSERT INTO chaos_writes (run, id) VALUES ($1, $2)", _connection)
                    {
                        Parameters = { new() { Value = _run }, new() { Value = id } },
                    };
                    await command.ExecuteNonQueryAsync(_stop.Token);
                    _acks.Enqueue(DateTimeOffset.UtcNow);
                    await Task.Delay(20, _stop.Token);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or InvalidOperationException or TimeoutException)
                {
                    EndedBy = ex.Message;
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
            await _loop;
            await _connection.DisposeAsync();
        }
    }
}
