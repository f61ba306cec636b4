using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// A standby whose replay is paused (pg_wal_replay_pause) keeps receiving WAL, so it is not behind in bytes, yet
/// promoting it means a stale or slow new primary: the failover refuses it by max_lag_on_failover_seconds, says so
/// in the decision log, and fails over once replay resumes.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class LaggingStandbyChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(30);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task Standbys_whose_replay_lags_beyond_the_limit_are_not_promoted_and_the_refusal_is_in_the_decision_log()
    {
        await Tier.ResetAsync();
        var previous = await Tier.ChangeSettingsAsync(s => s.MaxLagOnFailoverSeconds = 2);
        var standbys = new List<ChaosInstance>();
        try
        {
            await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "lagging");
            var start = scenario.Start;
            var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
            standbys.AddRange((await Tier.InstancesAsync()).Where(i => i.Name != start.Primary));
            foreach (var standby in standbys) await ExecuteAsync(standby, "SELECT pg_wal_replay_pause()");
            // The writer keeps committing; both standbys receive but do not replay, so their replay lag grows past 2 s.
            await Tier.WaitAsync(t => t.Replicas.Where(r => r.Name != start.Primary).All(r => r.LagSeconds > 3), DecisionTimeout);

            await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
            var refusal = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "alert"
                && d.Evidence.Any(e => e.Contains("max_lag_on_failover_seconds", StringComparison.Ordinal)), DecisionTimeout);
            output.WriteLine($"refusal: {refusal.Reason} | {string.Join(" | ", refusal.Evidence)}");
            Assert.All(standbys, s => Assert.Contains(refusal.Evidence, e => e.StartsWith($"{s.Name} not eligible: its replay is", StringComparison.Ordinal)));
            var refused = await Tier.GetAsync();
            Assert.Equal(start.Term, refused.Term);
            Assert.Equal(start.Primary, refused.Primary);
            Assert.NotEqual("", refused.Alert);

            // Replay resumes: the lag is gone, the standbys are eligible again, and the tier fails over on its own.
            foreach (var standby in standbys) await ExecuteAsync(standby, "SELECT pg_wal_replay_resume()");
            standbys.Clear();
            await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
            var (end, _) = await scenario.FinishAsync(noLossExpected: false);
            Assert.Equal(start.Term + 1, end.Term);
            Assert.Single(await Tier.DecisionsAsync(), d => d.Sequence > lastSequence && d.Kind == "automatic_failover");
        }
        finally
        {
            foreach (var standby in standbys)
            {
                try { await ExecuteAsync(standby, "SELECT pg_wal_replay_resume()"); }
                catch (NpgsqlException) { }
            }
            await Tier.ChangeSettingsAsync(s => s.MaxLagOnFailoverSeconds = previous.MaxLagOnFailoverSeconds);
        }
    }

    private static async Task ExecuteAsync(ChaosInstance instance, string sql)
    {
        await using var connection = await instance.OpenAsync(5, 10, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
