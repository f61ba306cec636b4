using ControlPlane.Client;
using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.Bench.Fleet;

/// <summary>When a starting silo first answered, and when its fleet was first entirely healthy (null if never).</summary>
public sealed record Readiness(TimeSpan? GatewayUp, TimeSpan? Healthy, string LastState);

/// <summary>Polls ListTiers until every expected tier is HEALTHY with every replica healthy.</summary>
public static class FleetReadiness
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    public static async Task<Readiness> WaitAsync(SiloProcess silo, int tiers, int replicas, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(silo);
        using var client = new ControlPlaneClient(silo.GrpcEndpoint, new ControlPlaneClientOptions { ConnectTimeout = TimeSpan.FromSeconds(1) });
        TimeSpan? gatewayUp = null;
        var last = "no answer yet";
        while (silo.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
            if (silo.HasExited) return new Readiness(gatewayUp, null, $"silo exited with code {silo.ExitCode}; last state: {last}");
            try
            {
                var response = await client.Fleet.ListTiersAsync(new ListTiersRequest(), deadline: DateTime.UtcNow + CallTimeout, cancellationToken: ct);
                gatewayUp ??= silo.Elapsed;
                last = Describe(response);
                if (IsHealthy(response, tiers, replicas)) return new Readiness(gatewayUp, silo.Elapsed, last);
            }
            catch (RpcException ex) when (!ct.IsCancellationRequested)
            {
                if (gatewayUp is not null) last = $"{ex.StatusCode}: {ex.Status.Detail}";
            }
            await Task.Delay(PollInterval, ct);
        }
        return new Readiness(gatewayUp, null, $"not healthy after {timeout.TotalSeconds:F0}s; last state: {last}");
    }

    /// <summary>All <paramref name="tiers"/> tiers healthy, <paramref name="replicas"/> replicas in all, every one healthy.</summary>
    public static bool IsHealthy(ListTiersResponse response, int tiers, int replicas)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Tiers.Count == tiers
            && response.Tiers.All(t => t.Health == TierHealth.Healthy && t.Replicas.All(r => r.Healthy))
            && response.Tiers.Sum(t => t.Replicas.Count) == replicas;
    }

    private static string Describe(ListTiersResponse response) =>
        response.Tiers.Count == 0
            ? "no tiers registered"
            : string.Join("; ", response.Tiers.Select(t =>
                $"{t.Name} {t.Health} ({t.Replicas.Count(r => r.Healthy)}/{t.Replicas.Count} healthy){(string.IsNullOrEmpty(t.HealthReason) ? "" : ": " + t.HealthReason)}"));
}
