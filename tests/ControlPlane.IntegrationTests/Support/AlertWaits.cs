using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.IntegrationTests.Support;

/// <summary>
/// What the alert engine says, over the gateway: waits for a rule to fire for the given labels, or for it to be gone
/// from the active alerts (resolved). Patience, not a bound: the tests assert behaviour, the bench measures latency.
/// </summary>
public static class AlertWaits
{
    /// <summary>Polls ListAlerts until <paramref name="rule"/> fires with every label of <paramref name="labels"/>.</summary>
    public static async Task<Alert> FiringAsync(CallInvoker invoker, string environment, string rule, IReadOnlyDictionary<string, string> labels, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var active = await ActiveAsync(invoker, environment);
            var found = active.FirstOrDefault(a => a.Rule == rule && a.State == "firing" && Matches(a, labels));
            if (found is not null) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no firing {rule} alert with {Describe(labels)}: active {Describe(active)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Polls ListAlerts until no alert of <paramref name="rule"/> with those labels is active (pending or firing).</summary>
    public static async Task ResolvedAsync(CallInvoker invoker, string environment, string rule, IReadOnlyDictionary<string, string> labels, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var active = await ActiveAsync(invoker, environment);
            if (!active.Any(a => a.Rule == rule && Matches(a, labels))) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{rule} with {Describe(labels)} still active: {Describe(active)}");
            await Task.Delay(200);
        }
    }

    private static async Task<IReadOnlyList<Alert>> ActiveAsync(CallInvoker invoker, string environment)
    {
        var alerts = new AlertService.AlertServiceClient(invoker);
        var list = await alerts.ListAlertsAsync(new ListAlertsRequest { Environment = environment }, deadline: DateTime.UtcNow.AddSeconds(10));
        return list.Alerts;
    }

    private static bool Matches(Alert alert, IReadOnlyDictionary<string, string> labels) =>
        labels.All(l => alert.Labels.TryGetValue(l.Key, out var value) && value == l.Value);

    private static string Describe(IReadOnlyDictionary<string, string> labels) =>
        "{" + string.Join(", ", labels.Select(l => $"{l.Key}={l.Value}")) + "}";

    private static string Describe(IEnumerable<Alert> alerts) =>
        string.Join(" | ", alerts.Select(a => $"{a.Fingerprint} {a.State}"));
}
