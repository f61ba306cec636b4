using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Failover;

/// <summary>How a tier keeps its primary synchronous standbys.</summary>
[GenerateSerializer, Alias("controlplane.SynchronousMode")]
public enum SynchronousMode
{
    /// <summary>Asynchronous replication: fastest writes, a failover may lose the last transactions.</summary>
    Off = 0,
    /// <summary>Commits wait for one healthy standby; with none healthy for <see cref="FailoverSettings.SynchronousDegradeAfter"/>
    /// the primary goes asynchronous (availability first, Patroni's non-strict mode), and back once one streams again.</summary>
    On = 1,
    /// <summary>Commits always wait for a standby; with none healthy writes block and the tier alerts at once (no
    /// acknowledged write is ever lost).</summary>
    Strict = 2,
}

/// <summary>
/// The HA policy of one tier. Detection speed trades against false positives:
/// <see cref="FailureThreshold"/> × <see cref="ProbeInterval"/> is the shortest outage that triggers a failover.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.FailoverSettings")]
public sealed record FailoverSettings
{
    /// <summary>Whether the tier fails over on its own (pausing the tier suspends this too).</summary>
    [Id(0)] public bool AutoFailover { get; init; } = true;

    /// <summary>Consecutive failed probes of the primary before it is declared failed.</summary>
    [Id(1)] public int FailureThreshold { get; init; } = 3;

    /// <summary>Probe period of the tier's replicas while failover is enabled.</summary>
    [Id(2)] public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Deadline of one probe (connect + query); below the interval.</summary>
    [Id(3)] public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>A candidate further behind the primary's last known position than this is refused unless forced.</summary>
    [Id(4)] public long MaxLagOnFailoverBytes { get; init; } = 16L * 1024 * 1024;

    [Id(5)] public SynchronousMode SynchronousMode { get; init; } = SynchronousMode.Off;

    /// <summary>Promotion priority per replica (default 1); ties in WAL position go to the higher; 0 is never promoted.</summary>
    [Id(6)] public IReadOnlyDictionary<string, int> Priorities { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// A candidate whose replay is further behind than this (seconds of transactions received but not replayed, as
    /// its last probe saw them) is not promoted by a failover unless an operator forces it: promoting it means a long
    /// replay before the first write, or (replay paused) a stale primary.
    /// </summary>
    [Id(7)] public double MaxLagOnFailoverSeconds { get; init; } = 30;

    /// <summary>
    /// In-place crash restarts of the primary by PostgreSQL (<c>restart_after_crash</c>) within
    /// <see cref="CrashLoopWindow"/> that make it a crash loop: it is failed over rather than left to restart again;
    /// a standby crashing as often is not promoted. 0 turns the rule off.
    /// </summary>
    [Id(8)] public int CrashLoopCount { get; init; } = 3;

    /// <summary>The window <see cref="CrashLoopCount"/> is counted in.</summary>
    [Id(9)] public TimeSpan CrashLoopWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// In <see cref="SynchronousMode.On"/>: how long commits may wait with no standby streaming before the tier empties
    /// the primary's synchronous_standby_names (writes go on asynchronously, alert raised). 0, the default, degrades as
    /// soon as the tier sees the loss (its probes: about one probe interval). Strict mode never degrades.
    /// </summary>
    [Id(10)] public TimeSpan SynchronousDegradeAfter { get; init; } = TimeSpan.Zero;

    /// <summary>A replica with less than this left on its data directory's or pg_wal's filesystem has a full disk: a
    /// standby that full is never promoted. At least one WAL segment (the default, 16 MiB).</summary>
    [Id(11)] public long DiskFullBelowBytes { get; init; } = DiskSpace.FullBelowBytes;

    /// <summary>Below this much space left, every probe of a writable instance runs the disk write check (default 64 MiB).</summary>
    [Id(12)] public long DiskWriteCheckBelowBytes { get; init; } = DiskSpace.WriteCheckBelowBytes;

    /// <summary>A standby that answers in recovery but whose WAL receiver has not streamed from the primary for this
    /// long is rejoined, then rebuilt if that did not help (<see cref="StreamingHealPolicy"/>). 10 s to 1 h.</summary>
    [Id(13)] public TimeSpan NotStreamingHealAfter { get; init; } = TimeSpan.FromSeconds(60);

    private const long MaxDiskThresholdBytes = 1L << 40;

    public int PriorityOf(string replica) => Priorities.TryGetValue(replica, out var p) ? p : 1;

    /// <summary>The problems with these settings, each naming the setting, the value and what was expected.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (FailureThreshold is < 1 or > 100) errors.Add($"failure_threshold is {FailureThreshold}; expected 1 to 100.");
        if (ProbeInterval < TimeSpan.FromMilliseconds(100) || ProbeInterval > TimeSpan.FromMinutes(1))
            errors.Add($"probe_interval is {ProbeInterval.TotalMilliseconds} ms; expected 100 ms to 60 s.");
        if (ProbeTimeout <= TimeSpan.Zero || ProbeTimeout >= ProbeInterval)
            errors.Add($"probe_timeout is {ProbeTimeout.TotalMilliseconds} ms; expected more than 0 and less than the probe interval.");
        if (MaxLagOnFailoverBytes < 0) errors.Add($"max_lag_on_failover is {MaxLagOnFailoverBytes}; expected 0 or more bytes.");
        if (double.IsNaN(MaxLagOnFailoverSeconds) || MaxLagOnFailoverSeconds <= 0 || MaxLagOnFailoverSeconds > 86_400)
            errors.Add($"max_lag_on_failover_seconds is {MaxLagOnFailoverSeconds}; expected more than 0 and at most 86400 seconds.");
        if (CrashLoopCount is < 0 or > 100) errors.Add($"crash_loop_count is {CrashLoopCount}; expected 0 (off) to 100.");
        if (CrashLoopWindow < TimeSpan.FromSeconds(10) || CrashLoopWindow > TimeSpan.FromHours(1))
            errors.Add($"crash_loop_window_seconds is {CrashLoopWindow.TotalSeconds}; expected 10 to 3600 seconds.");
        if (SynchronousDegradeAfter < TimeSpan.Zero || SynchronousDegradeAfter > TimeSpan.FromHours(1))
            errors.Add($"synchronous_degrade_after_ms is {SynchronousDegradeAfter.TotalMilliseconds}; expected 0 (at once) to 3600000 (1 h).");
        if (DiskFullBelowBytes < DiskSpace.FullBelowBytes || DiskFullBelowBytes > MaxDiskThresholdBytes)
            errors.Add($"disk_full_below_bytes is {DiskFullBelowBytes}; expected {DiskSpace.FullBelowBytes} (one WAL segment) to {MaxDiskThresholdBytes} bytes.");
        if (DiskWriteCheckBelowBytes < DiskFullBelowBytes || DiskWriteCheckBelowBytes > MaxDiskThresholdBytes)
            errors.Add($"disk_write_check_below_bytes is {DiskWriteCheckBelowBytes}; expected disk_full_below_bytes ({DiskFullBelowBytes}) to {MaxDiskThresholdBytes} bytes.");
        if (NotStreamingHealAfter < TimeSpan.FromSeconds(10) || NotStreamingHealAfter > TimeSpan.FromHours(1))
            errors.Add($"not_streaming_heal_after_seconds is {NotStreamingHealAfter.TotalSeconds}; expected 10 to 3600 seconds.");
        foreach (var (name, priority) in Priorities)
        {
            if (priority is < 0 or > 1000) errors.Add($"priority of {name} is {priority}; expected 0 (never promote) to 1000.");
        }
        return errors;
    }
}
