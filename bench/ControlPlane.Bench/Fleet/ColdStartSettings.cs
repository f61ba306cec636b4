namespace ControlPlane.Bench.Fleet;

/// <summary>One coldstart run: which silo, where, how many trials, what "ready" means.</summary>
public sealed record ColdStartSettings(
    FileInfo Silo,
    string DataDirectory,
    string LogDirectory,
    int Trials,
    int Tiers,
    int Replicas,
    TimeSpan StartTimeout,
    TimeSpan StopTimeout,
    bool Keep);
