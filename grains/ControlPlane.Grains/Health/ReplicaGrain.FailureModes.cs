using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Health;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// What a replica watches beyond reachability (docs/failover.md#failure-modes): the space its host has left for it,
/// whether writes that need a new block still succeed once that space runs low (the disk write check, on a writable
/// instance only), and PostgreSQL's own in-place crash restarts (<c>restart_after_crash</c>), which the postmaster
/// hides from every other signal: it never stops listening, so a server that crashes and comes back within the probe
/// window looks like a few failed probes. The tier judges these facts (<c>DiskFullPolicy</c>, <c>CrashLoopPolicy</c>);
/// the alert engine gets them as readings.
/// </summary>
public sealed partial class ReplicaGrain
{
    private const int CrashRestartsKept = 20;
    private static readonly TimeSpan CrashRestartsKeptFor = TimeSpan.FromHours(1);
    private static readonly TimeSpan FailureModeReadingsEvery = TimeSpan.FromSeconds(5);
    private readonly List<DateTimeOffset> _crashRestarts = [];
    private long? _diskAvailable;
    private int _diskFullFailures;
    private string? _diskWriteError;
    private DateTimeOffset? _postmasterStartedAt;
    private DateTimeOffset? _serverStartedAt;
    private DateTimeOffset _failureModesReportedAt;
    private (bool DiskFull, int Crashes) _failureModesReported;

    /// <summary>Reads the host's free space, runs the disk write check when it is low, and counts crash restarts.</summary>
    private async Task ObserveFailureModesAsync(ReplicaProbe probe, ReplicaSpec spec, ProbeResult result, CancellationToken cancellationToken)
    {
        _diskAvailable = _driver?.AvailableBytes();
        if (result is { Reachable: true, InRecovery: false } && _diskAvailable < OrDefault(Schedule.DiskWriteCheckBelowBytes, DiskSpace.WriteCheckBelowBytes))
        {
            var check = await probe.CheckDiskWriteAsync(cancellationToken);
            // A check that failed for another reason (a timeout on a loaded host) neither proves nor clears a full disk.
            if (check.DiskFull) _diskFullFailures++;
            else if (check.Written) _diskFullFailures = 0;
            _diskWriteError = check.Written ? null : check.Error;
            if (check.DiskFull && _diskFullFailures == 1)
            {
                logger.LogError("Replica {Environment}/{Tier}/{Replica} fails writes for a full disk ({Available} bytes available): {Error}",
                    spec.Environment, spec.Tier, spec.Name, _diskAvailable, check.Error);
            }
        }
        else if (result.Reachable)
        {
            // Space again, or a standby (which writes no table of its own): nothing fails for a full disk now.
            _diskFullFailures = 0;
            _diskWriteError = null;
        }
        CountCrashRestart(spec, result);
    }

    /// <summary>
    /// One crash restart per change of the server's start (its checkpointer's) under the same postmaster. A new
    /// postmaster (a start, a rejoin, an operator's restart) is no crash and starts the count afresh.
    /// </summary>
    private void CountCrashRestart(ReplicaSpec spec, ProbeResult result)
    {
        if (!result.Reachable || result.ServerStartedAt is not { } server) return;
        if (result.PostmasterStartedAt != _postmasterStartedAt)
        {
            _crashRestarts.Clear();
        }
        else if (_serverStartedAt is { } before && server > before)
        {
            _crashRestarts.Add(result.At);
            _crashRestarts.RemoveAll(at => result.At - at > CrashRestartsKeptFor);
            if (_crashRestarts.Count > CrashRestartsKept) _crashRestarts.RemoveRange(0, _crashRestarts.Count - CrashRestartsKept);
            logger.LogWarning("Replica {Environment}/{Tier}/{Replica} crashed and was restarted in place by PostgreSQL (server processes started at {Started:O}; {Count} crash restarts in the last hour)",
                spec.Environment, spec.Tier, spec.Name, server, _crashRestarts.Count);
        }
        _postmasterStartedAt = result.PostmasterStartedAt;
        _serverStartedAt = server;
    }

    /// <summary>A schedule persisted before the disk marks were tier settings reads 0 for them: the defaults apply.</summary>
    private static long OrDefault(long configured, long fallback) => configured > 0 ? configured : fallback;

    private ReplicaHealth WithFailureModes(ReplicaHealth health) => health with
    {
        DiskAvailableBytes = _diskAvailable,
        DiskFullFailures = _diskFullFailures,
        DiskWriteError = _diskWriteError,
        CrashRestarts = _crashRestarts.ToList(),
        DiskFullBelowBytes = OrDefault(Schedule.DiskFullBelowBytes, DiskSpace.FullBelowBytes),
    };

    /// <summary>
    /// The disk and crash readings go to the alert engine (rules <c>ReplicaDiskFull</c>, <c>ReplicaCrashLoop</c>) from
    /// the probe, not the performance sampler: a server that PANICs or fails every write still has a host to read. Sent
    /// when they change, else every <see cref="FailureModeReadingsEvery"/>; not awaited by the probe.
    /// </summary>
    private void ReportFailureModeReadings(ReplicaSpec spec, ReplicaHealth health)
    {
        var now = DateTimeOffset.UtcNow;
        var crashes = FailureModeReadings.RecentCrashes(health, now);
        var reading = (health.DiskFull, crashes);
        if (reading == _failureModesReported && now - _failureModesReportedAt < FailureModeReadingsEvery) return;
        _failureModesReported = reading;
        _failureModesReportedAt = now;
        var readings = FailureModeReadings.Of(spec.Environment, spec.Tier, spec.Name, health, now);
        _ = ReportReadingsQuietlyAsync(spec, readings);
    }

    private async Task ReportReadingsQuietlyAsync(ReplicaSpec spec, IReadOnlyList<MetricObservation> readings)
    {
        try
        {
            await GrainFactory.GetGrain<IAlertGrain>(spec.Environment).Report(readings);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "Replica {Environment}/{Tier}/{Replica} could not report its failure-mode readings", spec.Environment, spec.Tier, spec.Name);
        }
    }
}
