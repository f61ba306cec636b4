using System.Text.Json;
using ControlPlane.Grains.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

public sealed class AlertmanagerPayloadTests
{
    [Fact]
    public void The_body_is_an_alertmanager_version_4_message_with_alertname_and_severity_labels()
    {
        var key = AlertKey.Of("BlockedSessions", new Dictionary<string, string> { ["tier"] = "oltp", ["replica"] = "oltp-1" });
        var started = AlertPolicyTests.T0;
        var fired = new AlertEvent(1, key, AlertPhase.Firing, started.AddMinutes(1), started, 3, AlertSeverity.Warning, "blocked", "docs/monitoring.md#blockedsessions", false);
        using var json = JsonDocument.Parse(AlertmanagerPayload.Build("local", [fired]));
        var root = json.RootElement;
        Assert.Equal("4", root.GetProperty("version").GetString());
        Assert.Equal("firing", root.GetProperty("status").GetString());
        var alert = root.GetProperty("alerts")[0];
        Assert.Equal("BlockedSessions", alert.GetProperty("labels").GetProperty("alertname").GetString());
        Assert.Equal("warning", alert.GetProperty("labels").GetProperty("severity").GetString());
        Assert.Equal("local", alert.GetProperty("labels").GetProperty("environment").GetString());
        Assert.Equal("0001-01-01T00:00:00.0000000+00:00", alert.GetProperty("endsAt").GetString());
        Assert.Equal(16, alert.GetProperty("fingerprint").GetString()!.Length);
    }

    [Fact]
    public void A_resolved_alert_ends_when_it_resolved()
    {
        var key = AlertKey.Of("X", []);
        var resolved = new AlertEvent(2, key, AlertPhase.Resolved, AlertPolicyTests.T0.AddMinutes(5), AlertPolicyTests.T0, 0, AlertSeverity.Info, "", "", false);
        using var json = JsonDocument.Parse(AlertmanagerPayload.Build("local", [resolved]));
        Assert.Equal("resolved", json.RootElement.GetProperty("status").GetString());
        Assert.StartsWith("2026-12-06T12:05:00", json.RootElement.GetProperty("alerts")[0].GetProperty("endsAt").GetString(), StringComparison.Ordinal);
    }
}
