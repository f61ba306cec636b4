using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Hosts;

/// <summary>
/// This host's silo as a vantage point (docs/hosts.md, Partitions): it probes every replica of every tier from here at
/// the failover probe interval and reports what it saw to the tier, which fails a primary over for unreachability
/// only when most vantage points agree (<see cref="VantagePolicy"/>). Runs on a declared host only: a single silo is
/// the tier's only vantage point already.
/// </summary>
internal sealed class VantageProbes(IOptions<ControlPlaneOptions> options, EmbeddedInstances instances, IGrainFactory grains,
    ILogger<VantageProbes> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var host = options.Value.Host;
        if (!host.IsDeclared || instances.Tiers.Count == 0) return;
        var settings = new FailoverSettings();
        var probes = new Dictionary<TierSpec, List<(string Name, ReplicaProbe Probe)>>();
        try
        {
            foreach (var t in instances.Tiers)
            {
                probes[t] = t.Replicas.Select(r => (r.Name, new ReplicaProbe(
                    new ReplicaEndpoint(r.Tier, r.Name, r.Host, r.Port, r.Database, r.User, r.PasswordFile, r.DataDirectory), settings.ProbeTimeout))).ToList();
            }
            using var timer = new PeriodicTimer(settings.ProbeInterval);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                foreach (var (tier, replicas) in probes)
                {
                    var results = await Task.WhenAll(replicas.Select(async r => (r.Name, Result: await r.Probe.ProbeAsync(stoppingToken))));
                    var reports = results.Select(r => new VantageReport(host.Name, r.Name, r.Result.Reachable, r.Result.At)).ToList();
                    try
                    {
                        await grains.GetGrain<ITierGrain>(FleetKeys.Tier(tier.Environment, tier.Name)).ReportVantage(reports);
                    }
                    catch (Exception ex) when (ex is TimeoutException or OrleansException)
                    {
                        logger.LogDebug(ex, "Vantage probes of {Tier}: the tier did not take the report", tier.Name);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Never the host's end: without this vantage point the tier counts one silo fewer.
            logger.LogError(ex, "Vantage probes stopped on host {Host}", host.Name);
        }
        finally
        {
            foreach (var (_, replicas) in probes) foreach (var r in replicas) await r.Probe.DisposeAsync();
        }
    }
}
