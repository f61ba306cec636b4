using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Coverage;

/// <summary>Wiring of coverage: the gatherer (also used by other silo components), and the keeper that evaluates it
/// on a period so CoverageAreaDegraded fires without anyone asking (<c>ControlPlane:Coverage:Interval</c>, 0 = off).</summary>
internal static class CoverageHosting
{
    public const string Section = "ControlPlane:Coverage";

    public static void AddControlPlaneCoverage(this WebApplicationBuilder builder)
    {
        var interval = builder.Configuration.GetValue($"{Section}:Interval", TimeSpan.FromMinutes(1));
        if (interval < TimeSpan.Zero) throw new ControlPlaneConfigurationException($"{Section}:Interval {interval} is negative; expected zero (off) or a positive interval.");
        // Their constructors are internal (the options types they read are the silo's own): built here, not by activation.
        builder.Services.AddSingleton(sp => new CoverageGatherer(sp.GetRequiredService<IClusterClient>(), sp.GetRequiredService<IOptions<ControlPlaneOptions>>(),
            sp.GetRequiredService<IOptions<Security.SecurityOptions>>(), sp.GetRequiredService<IOptions<ControlPlane.Grains.Changes.ChangeOptions>>(),
            sp.GetRequiredService<IOptions<ControlPlane.Grains.Hardening.HardeningExpectations>>()));
        builder.Services.AddSingleton(sp => new Runbooks.RunbookRenderer(sp.GetRequiredService<IClusterClient>(), sp.GetRequiredService<IOptions<ControlPlaneOptions>>()));
        builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<CoverageKeeper>(sp, interval));
    }

    public static void MapControlPlaneCoverage(this WebApplication app)
    {
        app.MapGrpcService<CoverageGrpcService>();
        app.MapGrpcService<Runbooks.RunbookGrpcService>();
    }
}

/// <summary>Evaluates the environment's coverage every period; the gatherer reports it to the alert engine.</summary>
internal sealed class CoverageKeeper(CoverageGatherer gatherer, IOptions<ControlPlaneOptions> options, ILogger<CoverageKeeper> logger, TimeSpan interval) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (interval <= TimeSpan.Zero) return;
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await gatherer.EvaluateAsync(options.Value.Environment);
            }
            // Any failure waits for the next round: a background service that throws would stop the host.
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug(ex, "Coverage of {Environment} not evaluated; next round in {Interval}", options.Value.Environment, interval);
            }
        }
    }
}
