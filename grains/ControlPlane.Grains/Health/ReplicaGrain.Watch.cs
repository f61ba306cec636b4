using ControlPlane.Postgres.Failover;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The host-local postmaster watch: a primary whose postmaster process disappears is probed at once instead of at
/// the next tick, so certain death (<see cref="ControlPlane.Grains.Failover.FailoverPolicy.CertainDeath"/>) is
/// seen within about <see cref="WatchPeriod"/> rather than half a probe interval on average. It reads /proc only
/// (one file per tick) and runs on local instances not known to be standbys. A frozen postmaster still exists,
/// so a hang is never sped up here: it keeps the probe window.
/// </summary>
public sealed partial class ReplicaGrain
{
    private static readonly TimeSpan WatchPeriod = TimeSpan.FromMilliseconds(100);
    private IGrainTimer? _watchTimer;
    private InstanceProcess? _watchedPostmaster;
    private bool _probing;

    private void StartWatching()
    {
        _watchTimer?.Dispose();
        _watchTimer = null;
        _watchedPostmaster = null;
        if (_driver is not { OnHost: true }) return;
        _watchTimer = this.RegisterGrainTimer(WatchPostmaster, new GrainTimerCreationOptions
        {
            DueTime = WatchPeriod,
            Period = WatchPeriod,
            KeepAlive = true,
            Interleave = true,
        });
    }

    private async Task WatchPostmaster(CancellationToken cancellationToken)
    {
        if (_driver is not { OnHost: true } driver || _knownStandby) return;
        int? pid;
        try
        {
            pid = driver.PostmasterPid();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }
        if (_watchedPostmaster is null || _watchedPostmaster.Pid != pid)
        {
            // A new (or first) postmaster: start watching it. A pid file naming a dead process starts nothing.
            _watchedPostmaster = pid is { } p ? InstanceProcesses.Read(p) is { IsGone: false } live ? live : null : null;
            return;
        }
        if (!InstanceProcesses.HasExited(_watchedPostmaster)) return;
        _watchedPostmaster = null;
        if (_probing) return;
        await ProbeOnce(cancellationToken);
    }
}
