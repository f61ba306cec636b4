namespace ControlPlane.Grains.Upgrades;

[GenerateSerializer, Alias("controlplane.UpgradeMethod")]
public enum UpgradeMethod
{
    /// <summary>A target-version instance subscribed to the source by logical replication, then a rehearsed cutover.</summary>
    Logical = 0,
    /// <summary>pg_dump and pg_restore with parallel jobs.</summary>
    Dump = 1,
    /// <summary>pg_upgrade --check, then pg_upgrade --link.</summary>
    PgUpgrade = 2,
}

[GenerateSerializer, Alias("controlplane.UpgradeRehearsalState")]
public enum UpgradeRehearsalState
{
    Running = 0,
    Succeeded = 1,
    Failed = 2,
    /// <summary>The control plane stopped while it ran; its scratch instances were removed by the next activation.</summary>
    Interrupted = 3,
}

/// <summary>One finished phase (restore, schema, initial copy, catch-up, cutover, counts, smoke, ...).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.UpgradePhaseRecord")]
public sealed record UpgradePhaseRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] TimeSpan Duration,
    [property: Id(2)] string Detail);

/// <summary>Rows of one table in the restored source (writes stopped) and in the upgraded copy.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.UpgradeTableCount")]
public sealed record UpgradeTableCount(
    [property: Id(0)] string Database,
    [property: Id(1)] string Table,
    [property: Id(2)] long Before,
    [property: Id(3)] long After)
{
    public bool Equal => Before == After;
}

[GenerateSerializer, Immutable, Alias("controlplane.UpgradeSmokeResult")]
public sealed record UpgradeSmokeResult(
    [property: Id(0)] string Database,
    [property: Id(1)] string Query,
    [property: Id(2)] bool Passed,
    [property: Id(3)] string Detail);

/// <summary>
/// One rehearsal of a major upgrade of a tier, on scratch instances restored from its newest verified backup.
/// Persisted (Running, with its scratch directory) before anything is started, updated after every phase.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.UpgradeRehearsal")]
public sealed record UpgradeRehearsal(
    [property: Id(0)] string Id,
    [property: Id(1)] string Environment,
    [property: Id(2)] string Tier,
    [property: Id(3)] UpgradeMethod Method,
    [property: Id(4)] int SourceMajor,
    [property: Id(5)] int TargetMajor,
    [property: Id(6)] string BackupId,
    [property: Id(7)] UpgradeRehearsalState State,
    [property: Id(8)] DateTimeOffset StartedAt,
    [property: Id(9)] DateTimeOffset? FinishedAt,
    [property: Id(10)] string Principal,
    [property: Id(11)] string ScratchDirectory,
    [property: Id(12)] string Installations)
{
    [Id(13)] public IReadOnlyList<UpgradePhaseRecord> Phases { get; init; } = [];
    /// <summary>Incompatibilities found: extensions the target lacks, objects the target refused, role issues.</summary>
    [Id(14)] public IReadOnlyList<string> Issues { get; init; } = [];
    [Id(15)] public IReadOnlyList<UpgradeTableCount> Counts { get; init; } = [];
    [Id(16)] public IReadOnlyList<UpgradeSmokeResult> Smoke { get; init; } = [];
    /// <summary>logical: from the moment writes stopped on the source to the target accepting its first write.</summary>
    [Id(17)] public TimeSpan? CutoverWriteGap { get; init; }
    /// <summary>logical: the largest replication lag seen while the subscriber caught up with writes on the source.</summary>
    [Id(18)] public long? MaxLagBytes { get; init; }
    [Id(19)] public string Error { get; init; } = "";
    /// <summary>Whether the scratch instances and directory are gone.</summary>
    [Id(20)] public bool CleanedUp { get; init; }

    public TimeSpan? Duration => FinishedAt - StartedAt;

    public bool CountsEqual => Counts.Count > 0 && Counts.All(c => c.Equal);
}

[GenerateSerializer, Alias("controlplane.UpgradeRehearsalsState")]
public sealed class UpgradeRehearsalsState
{
    [Id(0)] public List<UpgradeRehearsal> Rehearsals { get; set; } = [];
    [Id(1)] public long Sequence { get; set; }
}
