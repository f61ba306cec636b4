using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Bootstrap;

/// <summary>
/// Once the silo is up, hands the environment's tiers to their grains. Registration is idempotent, so every silo
/// of a cluster may do it at start; a failure is retried until it succeeds or the silo stops.
/// </summary>
internal sealed class FleetRegistration(
    IClusterClient cluster, EmbeddedInstances instances, IOptions<ControlPlaneOptions> options, ILogger<FleetRegistration> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (instances.Tiers.Count == 0) return;
        var env = options.Value.Environment;
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await cluster.GetGrain<IFleetGrain>(env).Register(instances.Tiers);
                if (options.Value.Fleet == FleetSource.Local) await Pools.DemoTenants.RegisterAsync(cluster, env, instances.Tiers);
                logger.LogInformation("Environment {Environment} registered with {Count} tier(s)", env, instances.Tiers.Count);
                return;
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                logger.LogWarning(ex, "Registering environment {Environment} failed (attempt {Attempt}); retrying", env, attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), stoppingToken);
            }
        }
    }
}
