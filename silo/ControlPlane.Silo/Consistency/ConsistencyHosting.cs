using ControlPlane.Grains.Consistency;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Verify;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Consistency;

/// <summary>Wiring of replica consistency and of verify: their settings, the keeper of the scheduled checks, the two gRPC services.</summary>
internal static class ConsistencyHosting
{
    public static void AddControlPlaneConsistency(this WebApplicationBuilder builder)
    {
        var consistency = builder.Configuration.GetSection(ConsistencySettings.Section).Get<ConsistencySettings>() ?? new ConsistencySettings();
        var verify = builder.Configuration.GetSection(VerifySettings.Section).Get<VerifySettings>() ?? new VerifySettings();
        var errors = consistency.Validate().Concat(verify.Validate()).ToList();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<ConsistencySettings>(builder.Configuration.GetSection(ConsistencySettings.Section));
        builder.Services.Configure<VerifySettings>(builder.Configuration.GetSection(VerifySettings.Section));
        builder.Services.AddHostedService<ConsistencyKeeper>();
    }

    public static void MapControlPlaneConsistency(this WebApplication app)
    {
        app.MapGrpcService<ConsistencyGrpcService>();
        app.MapGrpcService<Verify.VerifyGrpcService>();
    }
}

/// <summary>
/// Keeps every tier's consistency grain active so its scheduled check runs (a grain whose silo died is re-activated
/// on a survivor within one period). Does nothing when the schedule is off.
/// </summary>
internal sealed class ConsistencyKeeper(IClusterClient cluster, IOptions<ControlPlaneOptions> options, IOptions<ConsistencySettings> settings, ILogger<ConsistencyKeeper> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(60);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Value.Interval <= TimeSpan.Zero) return;
        var env = options.Value.Environment;
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var tiers = await cluster.GetGrain<IFleetGrain>(env).ListTiers();
                await Task.WhenAll(tiers.Select(t => cluster.GetGrain<IConsistencyGrain>(FleetKeys.Tier(env, t)).Ensure()));
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                logger.LogDebug(ex, "Keeping the consistency checks of {Environment} active failed; next round in {Period}", env, Period);
            }
        }
    }
}
