namespace ControlPlane.Bench.Anchors;

/// <summary>What the <c>failover-anchors</c> benchmark runs.</summary>
public sealed record AnchorsSettings(
    string WorkDirectory, FileInfo? Silo, IReadOnlyList<string> Systems, int Trials, int Stalls, TimeSpan StallLength,
    TimeSpan HangTimeout, TimeSpan FaultTimeout, TimeSpan ReadyTimeout, FileInfo? Output, bool Keep);
