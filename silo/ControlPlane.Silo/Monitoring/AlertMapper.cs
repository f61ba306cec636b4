using System.Globalization;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Silo.Gateway;
using Google.Protobuf.Collections;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Monitoring;

/// <summary>Alerts between domain records and protobuf, and the argument checks that go with the mapping.</summary>
internal static class AlertMapper
{
    public static Proto.AlertRule ToProto(AlertRule rule)
    {
        var proto = new Proto.AlertRule
        {
            Name = rule.Name,
            Expression = rule.Expression,
            For = Duration.FromTimeSpan(rule.For),
            Severity = Severity(rule.Severity),
            Runbook = rule.Runbook,
            Summary = rule.Summary,
            Enabled = rule.Enabled,
            Default = DefaultAlertRules.All.Contains(rule),
        };
        proto.Labels.Add(rule.Labels.ToDictionary(l => l.Key, l => l.Value));
        return proto;
    }

    /// <summary>A rule from a request; INVALID_ARGUMENT naming the field for anything malformed (nothing is stored then).</summary>
    public static AlertRule FromProto(Proto.AlertRule? proto)
    {
        if (proto is null) throw RequestValidation.Invalid("rule is required; expected name, expression, for, severity.");
        var parsed = AlertRuleValidation.ParseExpression(proto.Expression, out var problem)
            ?? throw RequestValidation.Invalid("rule." + problem.Replace(proto.Expression, RequestValidation.Shown(proto.Expression), StringComparison.Ordinal));
        var severity = proto.Severity switch
        {
            "" or "warning" => AlertSeverity.Warning,
            "critical" => AlertSeverity.Critical,
            "info" => AlertSeverity.Info,
            _ => throw RequestValidation.Invalid($"rule.severity '{RequestValidation.Shown(proto.Severity)}' is unknown; expected info, warning or critical."),
        };
        var @for = Span("rule.for", proto.For);
        var rule = new AlertRule(proto.Name, parsed.Metric, parsed.Comparison, parsed.Threshold, @for, severity,
            new Dictionary<string, string>(proto.Labels, StringComparer.Ordinal), proto.Runbook, proto.Summary.Length > 0 ? proto.Summary : proto.Expression,
            proto.Enabled);
        var errors = AlertRuleValidation.Validate(rule);
        if (errors.Count > 0) throw RequestValidation.Invalid("rule." + string.Join(" rule.", errors.Select(e => RequestValidation.Shown(e))));
        return rule;
    }

    public static Proto.Alert ToProto(ActiveAlert alert, bool silenced)
    {
        var proto = new Proto.Alert
        {
            Rule = alert.Key.Rule,
            State = alert.Phase == AlertPhase.Firing ? "firing" : "pending",
            Since = Timestamp.FromDateTimeOffset(alert.Since),
            Value = alert.Value,
            Severity = Severity(alert.Severity),
            Summary = alert.Summary,
            Runbook = alert.Runbook,
            Silenced = silenced,
            Fingerprint = AlertmanagerPayload.Fingerprint(alert.Key),
        };
        if (alert.FiredAt is { } fired) proto.FiredAt = Timestamp.FromDateTimeOffset(fired);
        proto.Labels.Add(alert.Key.Labels.ToDictionary(l => l.Key, l => l.Value));
        return proto;
    }

    public static Proto.AlertEvent ToProto(AlertEvent e) =>
        Event(e.Version, e.Key, e.Phase == AlertPhase.Firing ? "firing" : "resolved", e.At, e.StartedAt, e.Value, e.Severity, e.Summary, e.Runbook,
            e.Silenced, snapshot: false);

    /// <summary>An active alert as the opening snapshot of a watch.</summary>
    public static Proto.AlertEvent Snapshot(ActiveAlert alert, long version, bool silenced) =>
        Event(version, alert.Key, alert.Phase == AlertPhase.Firing ? "firing" : "pending", alert.LastSeen, alert.Since, alert.Value, alert.Severity,
            alert.Summary, alert.Runbook, silenced, snapshot: true);

    private static Proto.AlertEvent Event(long version, AlertKey key, string phase, DateTimeOffset at, DateTimeOffset started, double value,
        AlertSeverity severity, string summary, string runbook, bool silenced, bool snapshot)
    {
        var proto = new Proto.AlertEvent
        {
            Version = version,
            Rule = key.Rule,
            Phase = phase,
            At = Timestamp.FromDateTimeOffset(at),
            StartedAt = Timestamp.FromDateTimeOffset(started),
            Value = value,
            Severity = Severity(severity),
            Summary = summary,
            Runbook = runbook,
            Silenced = silenced,
            Fingerprint = AlertmanagerPayload.Fingerprint(key),
            Snapshot = snapshot,
        };
        proto.Labels.Add(key.Labels.ToDictionary(l => l.Key, l => l.Value));
        return proto;
    }

    public static Proto.Silence ToProto(AlertSilence s, DateTimeOffset now)
    {
        var proto = new Proto.Silence
        {
            Id = s.Id,
            Starts = Timestamp.FromDateTimeOffset(s.Starts),
            Ends = Timestamp.FromDateTimeOffset(s.Ends),
            Comment = s.Comment,
            CreatedBy = s.CreatedBy,
            Active = s.ActiveAt(now),
        };
        proto.Matchers.Add(s.Matchers.ToDictionary(l => l.Key, l => l.Value));
        return proto;
    }

    public static IReadOnlyDictionary<string, string> Matchers(MapField<string, string> matchers)
    {
        if (matchers.Count == 0) throw RequestValidation.Invalid("matchers is empty; expected at least one name=value (alertname=RULE or a label such as tier=oltp).");
        foreach (var (name, value) in matchers)
        {
            if (name.Length == 0 || value.Length == 0)
                throw RequestValidation.Invalid($"matchers '{RequestValidation.Shown(name)}={RequestValidation.Shown(value)}' is incomplete; expected a name and a value.");
        }
        return new Dictionary<string, string>(matchers, StringComparer.Ordinal);
    }

    /// <summary>The silence's window: starts (default now) to ends, or starts plus duration. No end is INVALID_ARGUMENT.</summary>
    public static (DateTimeOffset Starts, DateTimeOffset Ends) SilenceWindow(Proto.CreateSilenceRequest request, DateTimeOffset now)
    {
        var starts = request.Starts is null ? now : Instant("starts", request.Starts);
        if (request.Ends is not null && request.Duration is not null)
            throw RequestValidation.Invalid("ends and duration are both set; expected one of them.");
        if (request.Ends is not null) return (starts, Instant("ends", request.Ends));
        if (request.Duration is null) throw RequestValidation.Invalid("ends is required (or duration); a silence must end.");
        var duration = Span("duration", request.Duration);
        if (duration <= TimeSpan.Zero || duration > AlertRuleValidation.MaxSilence)
            throw RequestValidation.Invalid($"duration {duration} is out of range; expected more than 0 and at most {AlertRuleValidation.MaxSilence}.");
        return (starts, starts + duration);
    }

    /// <summary>A protobuf duration as a TimeSpan; INVALID_ARGUMENT when it is out of TimeSpan's range or malformed.</summary>
    private static TimeSpan Span(string field, Duration? duration)
    {
        if (duration is null) return TimeSpan.Zero;
        try
        {
            return duration.ToTimeSpan();
        }
        catch (Exception ex) when (ex is InvalidOperationException or OverflowException or ArgumentException)
        {
            throw RequestValidation.Invalid($"{field} {duration.Seconds}s{duration.Nanos}ns is not a valid duration; expected seconds and nanoseconds of one sign, within ±10000 years.");
        }
    }

    private static DateTimeOffset Instant(string field, Timestamp timestamp)
    {
        try
        {
            return timestamp.ToDateTimeOffset();
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            throw RequestValidation.Invalid($"{field} {timestamp.Seconds}s{timestamp.Nanos}ns is not a valid timestamp; expected 0001-01-01 to 9999-12-31 UTC.");
        }
    }

    public static string Severity(AlertSeverity severity) => severity.ToString().ToLower(CultureInfo.InvariantCulture);
}
