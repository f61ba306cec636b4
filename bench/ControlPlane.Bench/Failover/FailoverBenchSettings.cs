namespace ControlPlane.Bench.Failover;

/// <summary>What the <c>failover</c> benchmark runs.</summary>
public sealed record FailoverBenchSettings(
    FileInfo Silo, string DataDirectory, string LogFile, int Trials, int Pauses, TimeSpan PauseLength, TimeSpan ConvergeTimeout, bool Keep);
