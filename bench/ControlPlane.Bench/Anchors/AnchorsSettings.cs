namespace ControlPlane.Bench.Anchors;

/// <summary>What the <c>failover-anchors</c> benchmark runs.</summary>
/// <param name="Scenarios">The scenarios to run, by letter (a to e); every one when empty.</param>
public sealed record AnchorsSettings(
    string WorkDirectory, FileInfo? Silo, IReadOnlyList<string> Systems, int Trials, int Stalls, TimeSpan StallLength,
    TimeSpan HangTimeout, TimeSpan FaultTimeout, TimeSpan ReadyTimeout, FileInfo? Output, bool Keep, IReadOnlyList<char>? Scenarios = null)
{
    /// <summary>The scenario letters, in order.</summary>
    public static readonly IReadOnlyList<char> AllScenarios = ['a', 'b', 'c', 'd', 'e'];

    public bool Runs(char scenario) => Scenarios is not { Count: > 0 } chosen || chosen.Contains(scenario);
}
