namespace ControlPlane.Grains.Monitoring;

/// <summary>How a rule compares a metric's value with its threshold.</summary>
[GenerateSerializer, Alias("controlplane.AlertComparison")]
public enum AlertComparison
{
    Above = 0,
    AtLeast = 1,
    Below = 2,
    AtMost = 3,
}

[GenerateSerializer, Alias("controlplane.AlertSeverity")]
public enum AlertSeverity
{
    Info = 0,
    Warning = 1,
    Critical = 2,
}

/// <summary>
/// A declarative alert rule: when <see cref="Metric"/> compared with <see cref="Threshold"/> holds for <see cref="For"/>
/// on one source (a replica, a tier), an alert fires with the rule's labels plus the source's.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.AlertRule")]
public sealed record AlertRule(
    [property: Id(0)] string Name,
    [property: Id(1)] string Metric,
    [property: Id(2)] AlertComparison Comparison,
    [property: Id(3)] double Threshold,
    [property: Id(4)] TimeSpan For,
    [property: Id(5)] AlertSeverity Severity,
    [property: Id(6)] IReadOnlyDictionary<string, string> Labels,
    [property: Id(7)] string Runbook,
    [property: Id(8)] string Summary,
    [property: Id(9)] bool Enabled = true)
{
    public bool Breached(double value) => Comparison switch
    {
        AlertComparison.Above => value > Threshold,
        AlertComparison.AtLeast => value >= Threshold,
        AlertComparison.Below => value < Threshold,
        AlertComparison.AtMost => value <= Threshold,
        _ => false,
    };

    public string Expression => $"{Metric} {Symbol(Comparison)} {Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public static string Symbol(AlertComparison comparison) => comparison switch
    {
        AlertComparison.Above => ">",
        AlertComparison.AtLeast => ">=",
        AlertComparison.Below => "<",
        _ => "<=",
    };
}

/// <summary>One reading of a metric on one source; <see cref="Labels"/> name the source (environment, tier, replica, ...).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.MetricObservation")]
public sealed record MetricObservation(
    [property: Id(0)] string Metric,
    [property: Id(1)] IReadOnlyDictionary<string, string> Labels,
    [property: Id(2)] double Value,
    [property: Id(3)] DateTimeOffset At);

/// <summary>
/// The identity of an alert: its rule and its labels, never its text. Two readings with the same rule and labels
/// are the same alert, which is how firing is deduplicated.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.AlertKey")]
public sealed record AlertKey([property: Id(0)] string Rule, [property: Id(1)] IReadOnlyDictionary<string, string> Labels)
{
    public static AlertKey Of(string rule, IEnumerable<KeyValuePair<string, string>> labels) =>
        new(rule, labels.OrderBy(l => l.Key, StringComparer.Ordinal).ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal));

    /// <summary>Stable text of the identity: <c>rule{a="x",b="y"}</c>, labels sorted.</summary>
    public string Fingerprint => Rule + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";

    public string? Label(string name) => Labels.TryGetValue(name, out var value) ? value : null;

    public bool Equals(AlertKey? other) => other is not null && Fingerprint == other.Fingerprint;

    public override int GetHashCode() => Fingerprint.GetHashCode(StringComparison.Ordinal);
}

[GenerateSerializer, Alias("controlplane.AlertPhase")]
public enum AlertPhase
{
    Pending = 0,
    Firing = 1,
    Resolved = 2,
}

/// <summary>One alert the engine tracks: pending since the first breach, firing after the rule's <c>for</c>.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ActiveAlert")]
public sealed record ActiveAlert(
    [property: Id(0)] AlertKey Key,
    [property: Id(1)] AlertPhase Phase,
    [property: Id(2)] DateTimeOffset Since,
    [property: Id(3)] DateTimeOffset? FiredAt,
    [property: Id(4)] double Value,
    [property: Id(5)] DateTimeOffset LastSeen,
    [property: Id(6)] AlertSeverity Severity,
    [property: Id(7)] string Summary,
    [property: Id(8)] string Runbook);

/// <summary>A transition worth telling: an alert fired or resolved. Delivered (stream, webhook) after it is persisted.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.AlertEvent")]
public sealed record AlertEvent(
    [property: Id(0)] long Version,
    [property: Id(1)] AlertKey Key,
    [property: Id(2)] AlertPhase Phase,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] DateTimeOffset StartedAt,
    [property: Id(5)] double Value,
    [property: Id(6)] AlertSeverity Severity,
    [property: Id(7)] string Summary,
    [property: Id(8)] string Runbook,
    [property: Id(9)] bool Silenced);

/// <summary>Mutes notifications of the alerts it matches until <see cref="Ends"/> (a silence always ends).
/// Matchers are exact: <c>alertname</c> matches the rule, any other name a label.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.AlertSilence")]
public sealed record AlertSilence(
    [property: Id(0)] string Id,
    [property: Id(1)] IReadOnlyDictionary<string, string> Matchers,
    [property: Id(2)] DateTimeOffset Starts,
    [property: Id(3)] DateTimeOffset Ends,
    [property: Id(4)] string Comment,
    [property: Id(5)] string CreatedBy)
{
    public bool ActiveAt(DateTimeOffset at) => at >= Starts && at < Ends;

    public bool Matches(AlertKey key) => Matchers.Count > 0 && Matchers.All(m =>
        m.Key == "alertname" ? m.Value == key.Rule : key.Label(m.Key) == m.Value);
}
