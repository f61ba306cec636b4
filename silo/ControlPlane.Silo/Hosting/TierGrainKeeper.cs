using ControlPlane.Grains.Fleet;

namespace ControlPlane.Silo.Hosting;

/// <summary>
/// Keeps one grain per tier active so that its timer runs (a grain whose silo died is re-activated on a survivor
/// within one period). Subclasses say which grain and whether the schedule is on.
/// </summary>
internal abstract class TierGrainKeeper(IClusterClient cluster, string environment, ILogger logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    /// <summary>False: the schedule is off, nothing to keep.</summary>
    protected abstract bool Enabled { get; }

    protected abstract Task EnsureAsync(IClusterClient cluster, string tierKey);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled) return;
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var tiers = await cluster.GetGrain<IFleetGrain>(environment).ListTiers();
                await Task.WhenAll(tiers.Select(t => EnsureAsync(cluster, FleetKeys.Tier(environment, t))));
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                logger.LogDebug(ex, "Keeping the {Keeper} grains of {Environment} active failed; next round in {Period}", GetType().Name, environment, Period);
            }
        }
    }
}
