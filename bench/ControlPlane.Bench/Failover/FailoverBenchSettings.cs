namespace ControlPlane.Bench.Failover;

/// <summary>What the <c>failover</c> benchmark runs.</summary>
/// <param name="PauseLengths">The short stalls' lengths, used in turn (the first is <paramref name="PauseLength"/>); null: that one only.</param>
/// <param name="PauseScope">Whose processes a stall freezes: the primary's, or every instance of the tier (a host-wide stall).</param>
/// <param name="CheckpointStalls">I/O-heavy checkpoints on the primary (ballast written, then CHECKPOINT) that must not fail over.</param>
/// <param name="CheckpointBallastMiB">What each of those checkpoints writes out, roughly.</param>
/// <param name="FailureThreshold">The tier's failure_threshold for the run (null: the default), as <c>cpctl ha</c> sets it.</param>
/// <param name="ProbeInterval">The tier's probe_interval for the run (null: the default).</param>
public sealed record FailoverBenchSettings(
    FileInfo Silo, string DataDirectory, string LogFile, int Trials, int Pauses, TimeSpan PauseLength, TimeSpan ConvergeTimeout, bool Keep,
    IReadOnlyList<TimeSpan>? PauseLengths = null, StallScope PauseScope = StallScope.Primary, int CheckpointStalls = 0, int CheckpointBallastMiB = 256,
    int? FailureThreshold = null, TimeSpan? ProbeInterval = null)
{
    public IReadOnlyList<TimeSpan> Lengths => PauseLengths is { Count: > 0 } lengths ? lengths : [PauseLength];
}

/// <summary>Whose processes a short stall freezes.</summary>
public enum StallScope
{
    /// <summary>Every process of the primary (postmaster, backends, WAL senders).</summary>
    Primary,
    /// <summary>Every process of every instance of the tier: the whole host stalls.</summary>
    Tier,
}
