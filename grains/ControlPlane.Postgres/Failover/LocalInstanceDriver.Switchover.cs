using System.Diagnostics;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Postgres.Instances;

/// <summary>Clean stop for a switchover, the control file, and repointing a running standby at a new primary.</summary>
public sealed partial class LocalInstanceDriver
{
    private static readonly TimeSpan DefaultRepointVerify = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stops the instance with a fast shutdown (its walsenders first ship everything, the shutdown checkpoint
    /// included, to the connected standbys) and returns the shutdown checkpoint's location from the control
    /// file: a switchover waits until the target has received past it. Idempotent on a cleanly stopped
    /// instance; throws when the instance is frozen (the stop would hang) or was not shut down cleanly.
    /// </summary>
    public async Task<Lsn> StopCleanAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        if (await IsRunningAsync(ct).ConfigureAwait(false))
        {
            if (IsFrozen()) throw new InvalidOperationException($"{Tier}/{Name} is frozen (SIGSTOP); a clean stop would hang. Fence it instead.");
            logger.LogWarning("Stopping {Tier}/{Replica} cleanly for a switchover (fast shutdown)", Tier, Name);
            await RunPgAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "-s"], TimeSpan.FromSeconds(75), ct).ConfigureAwait(false);
        }
        var control = await ReadControlDataAsync(ct).ConfigureAwait(false);
        if (!control.IsCleanShutdown)
        {
            throw new InvalidOperationException(
                $"{Tier}/{Name} is not running and its control file says '{control.State}', not a clean shutdown: its last checkpoint does not mark the end of its WAL.");
        }
        logger.LogWarning("{Tier}/{Replica} stopped cleanly ({State}) at checkpoint {Checkpoint} on timeline {Timeline} after {Elapsed} ms",
            Tier, Name, control.State, control.CheckpointLsn, control.CheckpointTimeline, watch.ElapsedMilliseconds);
        return control.CheckpointLsn;
    }

    /// <summary>Reads the control file with <c>pg_controldata</c> (meaningful when the instance is stopped).</summary>
    public async Task<ControlData> ReadControlDataAsync(CancellationToken ct)
    {
        var result = await RunPgAsync("pg_controldata", ["-D", DataDirectory], TimeSpan.FromSeconds(15), ct,
            new Dictionary<string, string> { ["LC_ALL"] = "C", ["LANG"] = "C" }).ConfigureAwait(false);
        return ControlData.Parse(result.StandardOutput);
    }

    /// <inheritdoc cref="RepointAsync(ReplicaEndpoint, string, TimeSpan, CancellationToken)"/>
    public Task RepointAsync(ReplicaEndpoint newPrimary, string slotName, CancellationToken ct) =>
        RepointAsync(newPrimary, slotName, DefaultRepointVerify, ct);

    /// <summary>
    /// Points this running standby at <paramref name="newPrimary"/>: ensures <paramref name="slotName"/> there,
    /// rewrites primary_conninfo and primary_slot_name, reloads (PostgreSQL 13+ restarts the WAL receiver on such a
    /// change) and waits until the WAL receiver streams from the new primary. A standby that replayed past the new
    /// primary's fork point cannot follow it: that ends in a <see cref="TimeoutException"/>; rejoin it instead.
    /// A standby that is not running only gets its configuration rewritten (applied at its next start).
    /// </summary>
    public async Task RepointAsync(ReplicaEndpoint newPrimary, string slotName, TimeSpan verifyTimeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(newPrimary);
        ArgumentException.ThrowIfNullOrEmpty(slotName);
        if (!IsStandby) throw new InvalidOperationException($"{Tier}/{Name} is not a standby (no standby.signal in '{DataDirectory}'); rejoin it instead of repointing.");
        var watch = Stopwatch.StartNew();
        logger.LogWarning("Repointing {Tier}/{Replica} at {Primary} ({Host}:{Port}) through slot {Slot}",
            Tier, Name, newPrimary.Name, newPrimary.Host, newPrimary.Port, slotName);
        await SqlFailoverOps.EnsureReservedSlotAsync(newPrimary, slotName, ct).ConfigureAwait(false);
        SetUpstream(newPrimary, slotName);
        await WriteConfigAsync(ct).ConfigureAwait(false);
        if (!await IsRunningAsync(ct).ConfigureAwait(false))
        {
            logger.LogWarning("{Tier}/{Replica} is not running; it follows {Primary} from its next start", Tier, Name, newPrimary.Name);
            return;
        }
        await RunPgAsync("pg_ctl", ["reload", "-D", DataDirectory, "-s"], TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
        await AwaitStreamingFromAsync(newPrimary, verifyTimeout, ct).ConfigureAwait(false);
        logger.LogWarning("{Tier}/{Replica} streams from {Primary} after {Elapsed} ms", Tier, Name, newPrimary.Name, watch.ElapsedMilliseconds);
    }

    private async Task AwaitStreamingFromAsync(ReplicaEndpoint upstream, TimeSpan timeout, CancellationToken ct)
    {
        var limit = DateTime.UtcNow + timeout;
        while (true)
        {
            string seen;
            try
            {
                var receiver = await SqlFailoverOps.ReadWalReceiverAsync(Endpoint, ct).ConfigureAwait(false);
                if (receiver is { Status: "streaming" } r && r.Port == upstream.Port && r.Host == upstream.Host) return;
                seen = receiver is { } w ? $"{w.Status} from {w.Host}:{w.Port} on timeline {w.Timeline}" : "no WAL receiver";
            }
            catch (NpgsqlException e)
            {
                seen = e.Message;
            }
            if (DateTime.UtcNow > limit)
            {
                throw new TimeoutException(
                    $"{Tier}/{Name} does not stream from {upstream.Name} ({upstream.Host}:{upstream.Port}) {timeout.TotalSeconds:0.#}s after the reload; last seen: {seen}. " +
                    "If it replayed past the new primary's fork point it cannot follow it: rejoin it (pg_rewind).");
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }
}
