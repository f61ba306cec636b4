using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>What the alert engine says during a chaos scenario, over the gateway.</summary>
public static class ChaosAlerts
{
    /// <summary>Polls ListAlerts until <paramref name="rule"/> fires for <paramref name="replica"/>.</summary>
    public static Task<Alert> WaitFiringAsync(CallInvoker invoker, string environment, string rule, string replica, TimeSpan timeout) =>
        AlertWaits.FiringAsync(invoker, environment, rule, new Dictionary<string, string> { ["replica"] = replica }, timeout);
}
