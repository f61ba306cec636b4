namespace ControlPlane.Bench.Anchors;

/// <summary>What the <c>failover-anchors</c> benchmark runs.</summary>
/// <param name="Scenarios">The scenarios to run, by letter (a to g); every one when empty.</param>
/// <param name="CrashInterval">Scenario g: time between two crashes of the primary.</param>
/// <param name="SmallDiskBytes">Scenario f: size of each node's own disk (a tmpfs).</param>
public sealed record AnchorsSettings(
    string WorkDirectory, FileInfo? Silo, IReadOnlyList<string> Systems, int Trials, int Stalls, TimeSpan StallLength,
    TimeSpan HangTimeout, TimeSpan FaultTimeout, TimeSpan ReadyTimeout, FileInfo? Output, bool Keep, IReadOnlyList<char>? Scenarios = null,
    TimeSpan? CrashInterval = null, long SmallDiskBytes = SmallDisks.DefaultBytes)
{
    /// <summary>The scenario letters, in order.</summary>
    public static readonly IReadOnlyList<char> AllScenarios = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

    public bool Runs(char scenario) => Scenarios is not { Count: > 0 } chosen || chosen.Contains(scenario);

    /// <summary>Scenario g's crash interval: 3 s unless chosen.</summary>
    public TimeSpan CrashEvery => CrashInterval ?? TimeSpan.FromSeconds(3);

    /// <summary>Bytes of each node's own disk when scenario f runs; 0 (the work directory's disk) otherwise.</summary>
    public long NodeDiskBytes => Runs('f') ? SmallDiskBytes : 0;
}
