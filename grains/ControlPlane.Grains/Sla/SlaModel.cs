namespace ControlPlane.Grains.Sla;

/// <summary>
/// How a tier's availability is measured and judged (<c>ControlPlane:Sla</c>, docs/sla.md). One write on the
/// primary every <see cref="ProbeInterval"/>; the time between two probes counts as writable only when both writes
/// succeeded, so an outage is measured from the last write that succeeded to the first that succeeds again.
/// </summary>
public sealed class SlaOptions
{
    public const string Section = "ControlPlane:Sla";

    /// <summary>Time between two writes; off (measurement stopped) when zero.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A write that has not committed within this counts as failed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Availability objective in percent, e.g. 99.95.</summary>
    public double TargetPercent { get; set; } = 99.95;

    /// <summary>Resolution of the stored history; a report's period is rounded out to whole buckets.</summary>
    public TimeSpan BucketLength { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How far back reports can reach.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(35);

    /// <summary>Outages kept (oldest dropped first).</summary>
    public int MaxOutages { get; set; } = 500;

    /// <summary>How often the measurement is written to the catalog besides every outage's start and end.</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Two observations further apart than this (a silo down, the grain moving) leave the time between them
    /// unobserved: it counts neither as up nor as down, and reports say how much of their period was unobserved.
    /// </summary>
    public TimeSpan MaxGap => ProbeInterval * 3 + ProbeTimeout;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (ProbeInterval < TimeSpan.Zero || ProbeInterval > TimeSpan.FromMinutes(1))
            errors.Add($"{Section}:ProbeInterval {ProbeInterval} is out of range; expected 0 (off) to 1 minute.");
        if (ProbeTimeout <= TimeSpan.Zero || ProbeTimeout > TimeSpan.FromSeconds(30))
            errors.Add($"{Section}:ProbeTimeout {ProbeTimeout} is out of range; expected more than 0 and at most 30 seconds.");
        if (!(TargetPercent > 0 && TargetPercent < 100))
            errors.Add($"{Section}:TargetPercent {TargetPercent} is out of range; expected more than 0 and less than 100 (e.g. 99.95).");
        if (BucketLength < TimeSpan.FromMinutes(1) || BucketLength > TimeSpan.FromDays(1))
            errors.Add($"{Section}:BucketLength {BucketLength} is out of range; expected 1 minute to 1 day.");
        if (Retention < BucketLength || Retention > TimeSpan.FromDays(400))
            errors.Add($"{Section}:Retention {Retention} is out of range; expected one bucket to 400 days.");
        if (MaxOutages is < 1 or > 100_000)
            errors.Add($"{Section}:MaxOutages {MaxOutages} is out of range; expected 1 to 100000.");
        if (PersistInterval < TimeSpan.FromSeconds(1))
            errors.Add($"{Section}:PersistInterval {PersistInterval} is out of range; expected at least 1 second.");
        return errors;
    }
}

/// <summary>One probe's result at a moment, with the primary and term it wrote to.</summary>
public sealed record SlaObservation(DateTimeOffset At, bool Writable, string Primary, long Term, string Error);

/// <summary>Seconds observed and seconds writable within one bucket of history.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.SlaBucket")]
public sealed record SlaBucket(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] double ObservedSeconds,
    [property: Id(2)] double WritableSeconds,
    [property: Id(3)] double? MaxArchiveRpoSeconds = null);

/// <summary>
/// A stretch with no successful write: from the last write that succeeded (or the first failed one when none
/// came before it) to the first that succeeded again; open while <see cref="End"/> is null.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.SlaOutage")]
public sealed record SlaOutage(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] DateTimeOffset? End,
    [property: Id(2)] string Reason,
    [property: Id(3)] string PrimaryBefore,
    [property: Id(4)] long TermBefore,
    [property: Id(5)] string PrimaryAfter = "",
    [property: Id(6)] long TermAfter = 0,
    [property: Id(7)] bool Interrupted = false)
{
    public TimeSpan Duration(DateTimeOffset now) => (End ?? now) - Start;
}

/// <summary>Persistent part of the SLA grain: bucketed history, outages, and where the last probe left off.</summary>
[GenerateSerializer, Alias("controlplane.SlaState")]
public sealed class SlaState
{
    [Id(0)] public List<SlaBucket> Buckets { get; set; } = [];
    [Id(1)] public List<SlaOutage> Outages { get; set; } = [];
    [Id(2)] public DateTimeOffset? LastObservedAt { get; set; }
    [Id(3)] public bool LastWritable { get; set; }
    [Id(4)] public string LastError { get; set; } = "";
    [Id(5)] public DateTimeOffset? FirstObservedAt { get; set; }
}
