using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Pools;
using ControlPlane.Postgres.Pools;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The replica's pool sampler: every few seconds, the capacity settings and client backends of its instance go up
/// to the tier's pool grain; terminations of leaked sessions come down from it. The replica owns the connection
/// (no grain reads another grain's database connections).
/// </summary>
public sealed partial class ReplicaGrain : IReplicaPoolSampler
{
    internal static readonly TimeSpan PoolSampleInterval = TimeSpan.FromSeconds(2);
    private PoolInspector? _inspector;
    private IGrainTimer? _sampleTimer;

    public async Task<int> TerminateIdleInTransaction(IReadOnlyList<int> pids, string leaseId)
    {
        ArgumentNullException.ThrowIfNull(pids);
        if (_inspector is null || state.State.Spec is not { } spec) return 0;
        if (LeaseTags.LeaseIdOf(LeaseTags.For(leaseId, "x")) != leaseId) throw new ArgumentException($"lease id '{leaseId}' is not a lease id.");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var terminated = await _inspector.TerminateIdleInTransactionAsync(pids, $"{LeaseTags.Prefix}{leaseId}:", cts.Token);
        logger.LogWarning("Replica {Environment}/{Tier}/{Replica} terminated {Count} idle-in-transaction session(s) of lease {Lease}",
            spec.Environment, spec.Tier, spec.Name, terminated, leaseId);
        return terminated;
    }

    private void StartSampling(ReplicaSpec spec)
    {
        _sampleTimer?.Dispose();
        if (_inspector is not null) _ = _inspector.DisposeAsync().AsTask();
        _inspector = new PoolInspector(Endpoint(spec), TimeSpan.FromSeconds(2));
        _sampleTimer = this.RegisterGrainTimer(SampleOnce, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromSeconds(1),
            Period = PoolSampleInterval,
            KeepAlive = true,
            Interleave = true,
        });
    }

    private async Task StopSamplingAsync()
    {
        _sampleTimer?.Dispose();
        if (_inspector is not null) await _inspector.DisposeAsync();
    }

    private async Task SampleOnce(CancellationToken cancellationToken)
    {
        if (_inspector is null || state.State.Spec is not { } spec) return;
        PoolSample sample;
        try
        {
            sample = await _inspector.SampleAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            // Reachability is the probe's business; a missed sample only leaves the pool's view a little older.
            return;
        }
        var report = new ReplicaPoolSample(spec.Name, sample.At, sample.InRecovery, sample.Settings.MaxConnections,
            sample.Settings.SuperuserReserved, sample.Settings.Reserved, sample.Settings.MaxWalSenders, sample.Settings.ServerVersionNum,
            sample.Sessions.Select(s => new PoolSession(s.Pid, s.ApplicationName, s.IdleInTransaction, s.BackendAgeSeconds, s.StateAgeSeconds)).ToList());
        try
        {
            await GrainFactory.GetGrain<IPoolGrain>(FleetKeys.Tier(spec.Environment, spec.Tier)).ReportSample(report);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "Replica {Environment}/{Tier}/{Replica} could not report its pool sample", spec.Environment, spec.Tier, spec.Name);
        }
    }
}
