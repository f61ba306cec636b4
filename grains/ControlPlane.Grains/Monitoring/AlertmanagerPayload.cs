using System.Text.Json;
using System.Text.Json.Nodes;

namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// The Alertmanager webhook body (version 4), so any receiver written for Alertmanager takes the control plane's
/// alerts: one message per delivery, status "firing" when any alert in it fires. Pure.
/// </summary>
public static class AlertmanagerPayload
{
    private static readonly DateTimeOffset NotEnded = new(1, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static string Build(string environment, IReadOnlyList<AlertEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var alerts = new JsonArray();
        foreach (var e in events) alerts.Add(Alert(environment, e));
        var common = events.Count == 0 ? new Dictionary<string, string>() : CommonLabels(environment, events);
        var body = new JsonObject
        {
            ["version"] = "4",
            ["groupKey"] = $"{{}}:{{environment=\"{environment}\"}}",
            ["truncatedAlerts"] = 0,
            ["status"] = events.Any(e => e.Phase == AlertPhase.Firing) ? "firing" : "resolved",
            ["receiver"] = "controlplane",
            ["groupLabels"] = new JsonObject { ["environment"] = environment },
            ["commonLabels"] = Labels(common),
            ["commonAnnotations"] = new JsonObject(),
            ["externalURL"] = "",
            ["alerts"] = alerts,
        };
        return body.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    private static JsonObject Alert(string environment, AlertEvent e) => new()
    {
        ["status"] = e.Phase == AlertPhase.Firing ? "firing" : "resolved",
        ["labels"] = Labels(LabelsOf(environment, e)),
        ["annotations"] = new JsonObject
        {
            ["summary"] = e.Summary,
            ["runbook_url"] = e.Runbook,
            ["value"] = e.Value.ToString("G", System.Globalization.CultureInfo.InvariantCulture),
        },
        ["startsAt"] = e.StartedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["endsAt"] = (e.Phase == AlertPhase.Firing ? NotEnded : e.At).ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["generatorURL"] = "",
        ["fingerprint"] = Fingerprint(e.Key),
    };

    /// <summary>alertname, severity and the alert's own labels; the environment when the source did not name one.</summary>
    public static IReadOnlyDictionary<string, string> LabelsOf(string environment, AlertEvent e)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["environment"] = environment };
        foreach (var (name, value) in e.Key.Labels) labels[name] = value;
        labels["alertname"] = e.Key.Rule;
        labels["severity"] = e.Severity.ToString().ToLowerInvariant();
        return labels;
    }

    private static Dictionary<string, string> CommonLabels(string environment, IReadOnlyList<AlertEvent> events)
    {
        var first = LabelsOf(environment, events[0]);
        return first.Where(l => events.All(e => LabelsOf(environment, e).TryGetValue(l.Key, out var v) && v == l.Value))
            .ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal);
    }

    private static JsonObject Labels(IEnumerable<KeyValuePair<string, string>> labels)
    {
        var o = new JsonObject();
        foreach (var (k, v) in labels.OrderBy(l => l.Key, StringComparer.Ordinal)) o[k] = v;
        return o;
    }

    /// <summary>16 hex digits from the alert identity: stable across silos and restarts.</summary>
    public static string Fingerprint(AlertKey key)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key.Fingerprint));
        return Convert.ToHexStringLower(hash, 0, 8);
    }
}
