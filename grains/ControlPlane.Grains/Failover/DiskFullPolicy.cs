namespace ControlPlane.Grains.Failover;

/// <summary>
/// A full disk on the primary, and on the standbys that might replace it (issue 21, mode 2). Pure.
///
/// <para>A primary whose data directory is full still answers reads and may still commit small updates into pages it
/// already has, so only a write that needs a new block tells: the replica's disk write check (run when the host sees
/// less than <see cref="FailoverSettings.DiskWriteCheckBelowBytes"/> left, 64 MiB by default). <see cref="FailoverSettings.FailureThreshold"/>
/// consecutive checks failing with disk_full (53100) are failure evidence, like as many failed probes: the window
/// holds, so a burst that a checkpoint's recycling relieves at once does not fail the tier over. A full pg_wal needs no
/// rule of its own: the server PANICs when it cannot add a WAL segment, and either fails to start again (certain
/// death or the probe window) or restarts in a loop (<see cref="CrashLoopPolicy"/>); the disk is then named in the
/// evidence (<see cref="Note"/>) so the operator reads the cause, not only the symptom.</para>
///
/// <para>A standby with less than <see cref="FailoverSettings.DiskFullBelowBytes"/> left (16 MiB by default) is never promoted, not even by name or
/// with data loss allowed: it could not even add the WAL segment its first writes need. When every standby is that
/// full (one disk for all), the election finds no candidate and the tier alerts instead of moving the fault.</para>
/// </summary>
public static class DiskFullPolicy
{
    /// <summary>The evidence that the primary fails writes for a full disk, or null.</summary>
    public static IReadOnlyList<string>? PrimaryEvidence(ReplicaFacts primary, int threshold)
    {
        ArgumentNullException.ThrowIfNull(primary);
        if (!primary.Fresh || primary.DiskFullFailures < Math.Max(1, threshold)) return null;
        return
        [
            $"primary {primary.Name} failed {primary.DiskFullFailures} consecutive disk write checks with disk full (53100; threshold {threshold})"
                + (primary.DiskWriteError is { Length: > 0 } error ? $": {error}" : ""),
            $"disk full: {Available(primary)} on the fuller of its data directory's and pg_wal's filesystems",
        ];
    }

    /// <summary>Why a standby may not be promoted for its own full disk, or null.</summary>
    public static string? Ineligibility(ReplicaFacts standby, FailoverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(standby);
        ArgumentNullException.ThrowIfNull(settings);
        if (standby.DiskFullFailures > 0) return $"its disk is full: writes fail with disk full (53100), {Available(standby)}";
        return standby.DiskAvailableBytes < settings.DiskFullBelowBytes
            ? $"its disk is full: {Available(standby)}, less than disk_full_below_bytes {settings.DiskFullBelowBytes}"
            : null;
    }

    /// <summary>What the evidence of any failover says of the primary's full disk (the likely cause of a PANIC or a
    /// failed start), or null when its disk is not full.</summary>
    public static string? Note(ReplicaFacts primary, FailoverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(settings);
        return primary.DiskAvailableBytes < settings.DiskFullBelowBytes
            ? $"disk full: primary {primary.Name} has {Available(primary)}, less than disk_full_below_bytes {settings.DiskFullBelowBytes} (a full pg_wal PANICs the server)"
            : null;
    }

    private static string Available(ReplicaFacts r) => r.DiskAvailableBytes is { } bytes ? $"{bytes} bytes available" : "free space unknown";
}
