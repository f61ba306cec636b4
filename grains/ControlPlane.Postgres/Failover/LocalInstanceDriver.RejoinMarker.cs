using System.Globalization;
using ControlPlane.Postgres.Fleet;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// The "rejoin in progress" marker. A rejoin removes the signal files before it can write standby.signal (pg_rewind's
/// crash recovery refuses standby mode), so a silo killed in between leaves a data directory that looks like a
/// primary's: the next start would run it as one, a second writable primary the tier must then fence. The marker,
/// in the instance directory (beside the data directory, so a rebuild that moves the data directory aside keeps it),
/// is written before the rejoin touches anything and removed once standby.signal is in place; while it is there the
/// instance is never started as a primary, and the local fleet resumes the rejoin at its next start.
/// </summary>
public sealed partial class LocalInstanceDriver
{
    public const string RejoinMarkerName = "rejoin.pending";

    private string RejoinMarker => Path.Combine(InstanceDirectory, RejoinMarkerName);

    /// <summary>A rejoin of this instance started and did not reach standby.signal: resume it, never start it as a primary.</summary>
    public bool RejoinPending => File.Exists(RejoinMarker);

    private async Task MarkRejoinAsync(ReplicaEndpoint newPrimary, CancellationToken ct)
    {
        // Nothing to protect in a directory that holds no cluster: it cannot be started at all.
        if (!IsInitialized) return;
        await OsUser.WriteFileAsync(RejoinMarker,
            string.Create(CultureInfo.InvariantCulture, $"rejoining {Tier}/{Name} as a standby of {newPrimary.Name} ({newPrimary.Host}:{newPrimary.Port}) since {DateTimeOffset.UtcNow:O}\n"),
            (UnixFileMode)0b110_000_000, forPostgres: true, ct).ConfigureAwait(false);
    }

    private void ClearRejoinMark() => File.Delete(RejoinMarker);

    /// <summary>Refuses to start, as a primary, an instance whose rejoin was interrupted.</summary>
    private void ThrowIfRejoinInterrupted()
    {
        if (!RejoinPending || IsStandby) return;
        var marker = File.ReadAllText(RejoinMarker).Trim();
        logger.LogError("{Tier}/{Replica} has an interrupted rejoin ({Marker}); not starting it as a primary", Tier, Name, marker);
        throw new RejoinInterruptedException(
            $"{Tier}/{Name} was being rejoined as a standby and the rejoin did not finish ({marker}); it is not started as a primary. "
            + $"Rejoin it (the tier heals it, or the next start of the local fleet resumes the rejoin); '{RejoinMarker}' marks it.");
    }
}

/// <summary>A start refused because the instance's rejoin was interrupted (<see cref="LocalInstanceDriver.RejoinPending"/>).</summary>
public sealed class RejoinInterruptedException(string message) : InvalidOperationException(message);
