using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Bootstrap;

/// <summary>
/// Every silo touches every tier of its environment every couple of seconds. A tier grain whose silo died is thus
/// re-activated on a survivor within seconds of the death being known (the tier's own reminder alone could take a
/// minute), and the new activation finishes any decision the dead one left half done. Backup grains likewise: their
/// activation runs the tier's WAL archiver, which must not stay down for long; SLA grains, whose activation is the
/// tier's write probe (a gap in it is unobserved time).
/// </summary>
internal sealed class TierKeeper(IClusterClient cluster, IOptions<ControlPlaneOptions> options, ILogger<TierKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var env = options.Value.Environment;
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var tiers = await cluster.GetGrain<IFleetGrain>(env).ListTiers();
                await Task.WhenAll(tiers.Select(t => cluster.GetGrain<ITierGrain>(FleetKeys.Tier(env, t)).Ensure())
                    .Concat(tiers.Select(t => cluster.GetGrain<ControlPlane.Grains.Backups.IBackupGrain>(FleetKeys.Tier(env, t)).Ensure()))
                    .Concat(tiers.Select(t => cluster.GetGrain<ControlPlane.Grains.Sla.ISlaGrain>(FleetKeys.Tier(env, t)).Ensure())));
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                logger.LogDebug(ex, "Keeping the tiers of {Environment} active failed; next round in {Period}", env, Period);
            }
        }
    }
}
