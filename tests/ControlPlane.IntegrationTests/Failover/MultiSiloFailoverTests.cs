using System.Globalization;
using ControlPlane.Postgres.Instances;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>The silo hosting a tier dies in the middle of that tier's failover; another silo must finish it, once.</summary>
[Collection(MultiSiloCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class MultiSiloFailoverTests(MultiSiloFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_silo_hosting_the_tier_during_a_failover_leaves_one_new_term_finished_by_another_silo()
    {
        var start = await fixture.Through(fixture.Silos[0]).GetAsync();
        var hostPort = int.Parse(start.Silo.TrimStart('S').Split(':')[1], CultureInfo.InvariantCulture);
        var host = fixture.Silos.Single(s => s.SiloPort == hostPort);
        var survivor = fixture.Through(fixture.Silos.First(s => s != host));
        output.WriteLine($"tier {start.Name} term {start.Term} primary {start.Primary} hosted by {start.Silo}");

        await using var scenario = await ChaosScenario.BeginAsync(survivor, fixture.FleetOptions.SuperuserPasswordFile(MultiSiloFixture.TierName), output, "multi-silo");
        await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
        // Kill the host as soon as the failover is decided (persisted), while it fences, promotes and rejoins.
        var decided = await survivor.WaitForDecisionAsync(d => d.Term > start.Term && d.Kind == "automatic_failover", TimeSpan.FromSeconds(30));
        host.Kill();
        output.WriteLine($"killed silo {start.Silo} with decision {decided.Sequence} of term {decided.Term} {decided.Outcome}: {string.Join(" | ", decided.Steps)}");

        var moved = await survivor.WaitAsync(t => t.Silo != start.Silo && t.Term > start.Term, TimeSpan.FromSeconds(60));
        output.WriteLine($"tier now hosted by {moved.Silo}");
        var (end, missing) = await scenario.FinishAsync(noLossExpected: false);
        output.WriteLine($"asynchronous mode: {missing.Count} acknowledged writes lost (reported, not asserted)");

        Assert.Equal(start.Term + 1, end.Term);
        var failovers = (await survivor.DecisionsAsync()).Where(d => d.Term > start.Term && d.Kind is "automatic_failover" or "manual_failover").ToList();
        var failover = Assert.Single(failovers);
        Assert.Equal("completed", failover.Outcome);
        Assert.Equal(end.Primary, failover.NewPrimary);
        Assert.NotEqual(start.Silo, end.Silo);
    }
}
