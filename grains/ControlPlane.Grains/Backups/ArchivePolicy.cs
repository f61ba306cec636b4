using ControlPlane.Postgres.Backups;

namespace ControlPlane.Grains.Backups;

/// <summary>The measured recovery point of a tier's WAL archive and whether it is within target.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ArchiveStatus")]
public sealed record ArchiveStatus(
    [property: Id(0)] DateTimeOffset MeasuredAt,
    [property: Id(1)] TimeSpan Rpo,
    [property: Id(2)] ulong PrimaryLsn,
    [property: Id(3)] ulong? StoredLsn,
    [property: Id(4)] bool Streaming,
    [property: Id(5)] string Server,
    [property: Id(6)] int Restarts,
    [property: Id(7)] string LastError,
    [property: Id(8)] string NewestSegment,
    [property: Id(9)] DateTimeOffset? CaughtUpAt)
{
    public static ArchiveStatus None { get; } = new(DateTimeOffset.MinValue, TimeSpan.Zero, 0, null, false, "", 0, "", "", null);

    /// <summary>WAL the archive never received, oldest first (<see cref="WalGapPolicy"/>).</summary>
    [Id(10)] public IReadOnlyList<WalGapRecord> Gaps { get; init; } = [];
}

/// <summary>
/// RPO is "now minus the newest moment up to which every WAL byte is safely stored". The primary reports how long the
/// archiver took to flush recent WAL (flush_lag); when the archiver has everything, RPO is zero; when it is behind
/// or not connected, RPO grows from the last moment it was known to be caught up. Pure, so it is tested without
/// servers.
/// </summary>
public static class ArchivePolicy
{
    /// <summary>The caught-up moment carried forward, and the RPO at <paramref name="sample"/>'s time.</summary>
    public static (DateTimeOffset? CaughtUpAt, TimeSpan Rpo) Measure(ArchiveSample sample, DateTimeOffset? caughtUpBefore, bool streaming)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (streaming && sample.StoredLsn is { } stored && stored >= sample.PrimaryLsn)
            return (sample.At, TimeSpan.Zero);
        if (streaming && sample.StoredLsn is not null && sample.FlushLag is { } lag)
        {
            // Behind by in-flight WAL only: the primary's measure is the age of the oldest unflushed byte.
            return (sample.At - lag, lag);
        }
        var since = caughtUpBefore ?? sample.At;
        return (caughtUpBefore, sample.At - since);
    }

    /// <summary>The tier's backup alert (one line, empty when all is well), from the facts the backup grain holds.</summary>
    public static string Alert(BackupPolicy policy, ArchiveStatus archive, BackupRecord? lastBackup, DrillSummary? lastDrill, string repositoryProblem,
        IReadOnlyList<WalGapRecord>? unbridgedGaps = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(archive);
        var parts = new List<string>();
        if (repositoryProblem.Length > 0) parts.Add(repositoryProblem);
        if (policy.ArchiveWal && archive.MeasuredAt != DateTimeOffset.MinValue && archive.Rpo > policy.RpoTarget)
            parts.Add($"RPO {archive.Rpo.TotalSeconds:0.0}s above target {policy.RpoTarget.TotalSeconds:0.#}s" + (archive.LastError.Length > 0 && !archive.Streaming ? $" ({archive.LastError})" : ""));
        if (unbridgedGaps is { Count: > 0 })
            parts.Add($"WAL archive gap {unbridgedGaps[^1]}: no point-in-time restore past it until a base backup taken after it succeeds");
        if (lastBackup is { State: BackupState.Failed } failed) parts.Add($"backup {failed.Id} failed: {failed.Error}");
        if (lastDrill is { } drill && !drill.Passed) parts.Add($"drill {drill.Id} failed: {drill.Reason}");
        else if (lastDrill is { Rto: { } rto } d && rto > policy.RtoTarget) parts.Add($"drill {d.Id} RTO {rto.TotalSeconds:0.0}s above target {policy.RtoTarget.TotalSeconds:0.#}s");
        return string.Join("; ", parts);
    }
}

/// <summary>What an alert needs of the newest finished drill.</summary>
public sealed record DrillSummary(string Id, bool Passed, TimeSpan? Rto, string Reason);
