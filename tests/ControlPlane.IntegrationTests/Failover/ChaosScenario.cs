using ControlPlane.Protos.V1;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// The frame of one chaos scenario: a converged tier, a history checker sampling every instance, a writer going
/// through the routing; at the end the tier must converge again, no two primaries may have been writable on one
/// timeline, and (where the scenario promises it) no acknowledged write may be missing on the current primary.
/// </summary>
public sealed class ChaosScenario : IAsyncDisposable
{
    private readonly TierControl _tier;
    private readonly ITestOutputHelper _output;

    private ChaosScenario(TierControl tier, ITestOutputHelper output, Tier start, HistoryChecker history, AckedWriter writer)
    {
        _tier = tier;
        _output = output;
        Start = start;
        History = history;
        Writer = writer;
    }

    public Tier Start { get; }
    public HistoryChecker History { get; }
    public AckedWriter Writer { get; }

    public static async Task<ChaosScenario> BeginAsync(TierControl tier, string passwordFile, ITestOutputHelper output, string run, bool freshConnectionPerWrite = false)
    {
        var start = await tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(start), $"the tier must be converged before the scenario: {start}");
        var history = HistoryChecker.Start(await tier.InstancesAsync());
        var writer = AckedWriter.Start(tier.Failover, tier.Name, passwordFile, run + "-" + Guid.NewGuid().ToString("N")[..6], freshConnectionPerWrite);
        await writer.WaitForAcksAsync(20, TimeSpan.FromSeconds(30));
        return new ChaosScenario(tier, output, start, history, writer);
    }

    /// <summary>
    /// Waits for convergence, stops the writer and the checker, and asserts the invariants. Returns the converged tier
    /// and the acknowledged writes missing on its primary (asserted empty when <paramref name="noLossExpected"/>).
    /// </summary>
    public async Task<(Tier Tier, IReadOnlyList<long> Missing)> FinishAsync(bool noLossExpected)
    {
        var end = await _tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(end), $"the tier did not converge within {TierControl.ConvergeTimeout}: {end}");
        // A few writes on the converged primary, so the routing is known to lead somewhere writable again.
        await Writer.WaitForAcksAsync(5, TimeSpan.FromSeconds(30));
        await Writer.StopAsync();
        await History.DisposeAsync();
        var missing = await Writer.MissingOnAsync(await _tier.InstanceAsync(end.Primary));
        _output.WriteLine($"writer {Writer.Run}: {Writer.Acknowledged.Count} acknowledged via {string.Join(" -> ", Writer.AcknowledgedBy)}, " +
            $"{Writer.Failures} failed attempts, longest gap {Writer.LongestGap().TotalMilliseconds:F0} ms, {missing.Count} acknowledged writes missing on {end.Primary}" +
            (missing.Count > 0 ? $" (ids {string.Join(", ", missing.Take(20))})" : ""));
        _output.WriteLine($"history: {History.Summary()}");
        Assert.Empty(History.SplitBrainRounds());
        if (noLossExpected) Assert.Empty(missing);
        return (end, missing);
    }

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        await History.DisposeAsync();
    }
}
