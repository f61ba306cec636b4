using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>What the alert engine says during a chaos scenario, over the gateway.</summary>
public static class ChaosAlerts
{
    /// <summary>Polls ListAlerts until <paramref name="rule"/> fires for <paramref name="replica"/>.</summary>
    public static async Task<Alert> WaitFiringAsync(CallInvoker invoker, string environment, string rule, string replica, TimeSpan timeout)
    {
        var alerts = new AlertService.AlertServiceClient(invoker);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var list = await alerts.ListAlertsAsync(new ListAlertsRequest { Environment = environment }, deadline: DateTime.UtcNow.AddSeconds(10));
            var found = list.Alerts.FirstOrDefault(a => a.Rule == rule && a.Labels.TryGetValue("replica", out var r) && r == replica && a.State == "firing");
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no firing {rule} alert for {replica}: {string.Join(" | ", list.Alerts.Select(a => a.Fingerprint + " " + a.State))}");
            await Task.Delay(200);
        }
    }
}
