using ControlPlane.Client;
using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.Bench.Fleet;

/// <summary>
/// When a starting silo first answered; when ListTiers first said "all healthy" (on a restart that may be the
/// snapshot persisted by the previous run); and when the fleet was healthy on probes made by this process (null if never).
/// </summary>
public sealed record Readiness(TimeSpan? GatewayUp, TimeSpan? ReportedHealthy, TimeSpan? Healthy, string LastState);

/// <summary>
/// Polls ListTiers until every expected tier is HEALTHY with every replica healthy, and every replica's last probe is
/// newer than the launch of the silo: a restarted silo serves its tiers' persisted snapshots before it has probed
/// anything, and those say "healthy" because the previous run left them so.
/// </summary>
public static class FleetReadiness
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    public static async Task<Readiness> WaitAsync(SiloProcess silo, int tiers, int replicas, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(silo);
        // The silo writes its admin token on first start; until the file is there, no call can be authorised.
        var tokenFile = Path.Combine(silo.DataDirectory, "admin.token");
        ControlPlaneClient? client = null;
        TimeSpan? gatewayUp = null;
        TimeSpan? reported = null;
        var last = "no answer yet";
        try
        {
            while (silo.Elapsed < timeout)
            {
                ct.ThrowIfCancellationRequested();
                if (silo.HasExited) return new Readiness(gatewayUp, reported, null, $"silo exited with code {silo.ExitCode}; last state: {last}");
                if (client is null)
                {
                    if (!File.Exists(tokenFile) || new FileInfo(tokenFile).Length == 0)
                    {
                        await Task.Delay(PollInterval, ct);
                        continue;
                    }
                    client = new ControlPlaneClient(silo.GrpcEndpoint, new ControlPlaneClientOptions
                    {
                        ConnectTimeout = TimeSpan.FromSeconds(1),
                        Token = (await File.ReadAllTextAsync(tokenFile, ct)).Trim(),
                    });
                }
                try
                {
                    var response = await client.Fleet.ListTiersAsync(new ListTiersRequest(), deadline: DateTime.UtcNow + CallTimeout, cancellationToken: ct);
                    gatewayUp ??= silo.Elapsed;
                    last = Describe(response);
                    if (IsHealthy(response, tiers, replicas, DateTimeOffset.MinValue)) reported ??= silo.Elapsed;
                    if (IsHealthy(response, tiers, replicas, silo.LaunchedAt)) return new Readiness(gatewayUp, reported, silo.Elapsed, last);
                }
                catch (RpcException ex) when (!ct.IsCancellationRequested)
                {
                    if (gatewayUp is not null) last = $"{ex.StatusCode}: {ex.Status.Detail}";
                }
                await Task.Delay(PollInterval, ct);
            }
        }
        finally
        {
            client?.Dispose();
        }
        return new Readiness(gatewayUp, reported, null, $"not healthy after {timeout.TotalSeconds:F0}s; last state: {last}");
    }

    /// <summary>
    /// All <paramref name="tiers"/> tiers healthy, <paramref name="replicas"/> replicas in all, every one healthy and
    /// probed at or after <paramref name="probedSince"/>.
    /// </summary>
    public static bool IsHealthy(ListTiersResponse response, int tiers, int replicas, DateTimeOffset probedSince)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Tiers.Count == tiers
            && response.Tiers.All(t => t.Health == TierHealth.Healthy
                && t.Replicas.All(r => r.Healthy && r.LastProbeAt is { } at && at.ToDateTimeOffset() >= probedSince))
            && response.Tiers.Sum(t => t.Replicas.Count) == replicas;
    }

    private static string Describe(ListTiersResponse response) =>
        response.Tiers.Count == 0
            ? "no tiers registered"
            : string.Join("; ", response.Tiers.Select(t =>
                $"{t.Name} {t.Health} ({t.Replicas.Count(r => r.Healthy)}/{t.Replicas.Count} healthy){(string.IsNullOrEmpty(t.HealthReason) ? "" : ": " + t.HealthReason)}"));
}
