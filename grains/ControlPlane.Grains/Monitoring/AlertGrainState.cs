namespace ControlPlane.Grains.Monitoring;

/// <summary>Persistent alerts of one environment: its own rules, silences, tracked alerts and the bounded history.</summary>
[GenerateSerializer, Alias("controlplane.AlertState")]
public sealed class AlertState
{
    [Id(0)] public List<AlertRule> Rules { get; set; } = [];
    [Id(1)] public List<AlertSilence> Silences { get; set; } = [];
    [Id(2)] public List<ActiveAlert> Active { get; set; } = [];
    [Id(3)] public List<AlertEvent> History { get; set; } = [];
    [Id(4)] public long LastVersion { get; set; }
    [Id(5)] public string WebhookUrl { get; set; } = "";
    [Id(6)] public long LastSilence { get; set; }
}
