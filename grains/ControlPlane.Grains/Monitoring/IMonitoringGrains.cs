namespace ControlPlane.Grains.Monitoring;

/// <summary>The monitoring side of a replica grain: what its sampler knows now.</summary>
[Alias("controlplane.IReplicaMonitor")]
public interface IReplicaMonitor : IGrainWithStringKey
{
    [Alias("GetPerformance")]
    Task<PerfReport> GetPerformance();

    /// <summary>The bounded, downsampled history of one metric on this replica, oldest first.</summary>
    [Alias("GetMetricHistory")]
    Task<IReadOnlyList<MetricPoint>> GetMetricHistory(string metric);
}

/// <summary>A page of the alert history after a version, and the newest version.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.AlertEventPage")]
public sealed record AlertEventPage([property: Id(0)] IReadOnlyList<AlertEvent> Events, [property: Id(1)] long LastVersion, [property: Id(2)] long OldestVersion);

/// <summary>
/// The alerts of one environment (key: env): rules, silences, the alerts being tracked and their history. Sources
/// (replicas, backup grains) report readings; the grain evaluates <see cref="AlertPolicy"/>, persists what changed,
/// then delivers (watchers, metrics, webhook).
/// </summary>
[Alias("controlplane.IAlertGrain")]
public interface IAlertGrain : IGrainWithStringKey
{
    [Alias("Report"), OneWay]
    Task Report(IReadOnlyList<MetricObservation> observations);

    [Alias("GetRules")]
    Task<IReadOnlyList<AlertRule>> GetRules();

    /// <summary>Adds or replaces a rule by name (a default one is overridden). ArgumentException when invalid; nothing stored then.</summary>
    [Alias("PutRule")]
    Task<AlertRule> PutRule(AlertRule rule, string principal);

    /// <summary>Removes an environment's own rule (a default of the same name applies again); false when it has none.</summary>
    [Alias("DeleteRule")]
    Task<bool> DeleteRule(string name, string principal);

    [Alias("AddSilence")]
    Task<AlertSilence> AddSilence(IReadOnlyDictionary<string, string> matchers, DateTimeOffset starts, DateTimeOffset ends, string comment, string principal);

    [Alias("ExpireSilence")]
    Task<bool> ExpireSilence(string id, string principal);

    [Alias("GetSilences")]
    Task<IReadOnlyList<AlertSilence>> GetSilences();

    [Alias("GetActive")]
    Task<IReadOnlyList<ActiveAlert>> GetActive();

    [Alias("GetEvents")]
    Task<AlertEventPage> GetEvents(long afterVersion, int limit);

    /// <summary>Sets the environment's webhook (empty: the configured default, if any). ArgumentException for a non-http(s) URL.</summary>
    [Alias("SetWebhook")]
    Task SetWebhook(string url, string principal);

    [Alias("GetWebhook")]
    Task<string> GetWebhook();
}
