using ControlPlane.Grains.Failover;

namespace ControlPlane.Grains.Sla;

/// <summary>A failover or switchover in a report's period, with the write outage it cost (its measured RTO).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.SlaFailover")]
public sealed record SlaFailover(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] DecisionKind Kind,
    [property: Id(2)] long Term,
    [property: Id(3)] string OldPrimary,
    [property: Id(4)] string NewPrimary,
    [property: Id(5)] DecisionOutcome Outcome,
    [property: Id(6)] TimeSpan? WriteOutage);

/// <summary>What a tier delivered over a period, against its objective.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.SlaReport")]
public sealed record SlaReport(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] DateTimeOffset From,
    [property: Id(3)] DateTimeOffset To,
    [property: Id(4)] double ObservedSeconds,
    [property: Id(5)] double WritableSeconds,
    [property: Id(6)] double TargetPercent,
    [property: Id(7)] IReadOnlyList<SlaOutage> Outages,
    [property: Id(8)] IReadOnlyList<SlaFailover> Failovers,
    [property: Id(9)] double? WorstArchiveRpoSeconds,
    [property: Id(10)] DateTimeOffset? MeasuringSince,
    [property: Id(11)] DateTimeOffset? LastObservedAt,
    [property: Id(12)] bool WritableNow,
    [property: Id(13)] string LastError,
    [property: Id(14)] DateTimeOffset GeneratedAt)
{
    public double DowntimeSeconds => ObservedSeconds - WritableSeconds;

    /// <summary>Seconds of the period no probe covered (before measuring began, or while no silo measured).</summary>
    public double UnobservedSeconds => Math.Max(0, (To - From).TotalSeconds - ObservedSeconds);

    /// <summary>Writable share of the observed time in percent; null when nothing was observed.</summary>
    public double? AvailabilityPercent => ObservedSeconds > 0 ? 100 * WritableSeconds / ObservedSeconds : null;

    /// <summary>Downtime the objective allows over the observed time.</summary>
    public double BudgetSeconds => (1 - TargetPercent / 100) * ObservedSeconds;

    public double BudgetRemainingSeconds => BudgetSeconds - DowntimeSeconds;

    /// <summary>Share of the budget left (negative once spent beyond it); null when nothing was observed.</summary>
    public double? BudgetRemainingRatio => BudgetSeconds > 0 ? BudgetRemainingSeconds / BudgetSeconds : null;

    public bool MeetsTarget => AvailabilityPercent is not { } a || a >= TargetPercent;
}

/// <summary>Builds reports from the ledger's history. Pure.</summary>
public static class SlaReporter
{
    public static SlaReport Report(string environment, string tier, SlaState state, TimeSpan period, IReadOnlyList<DecisionRecord> decisions,
        SlaOptions options, DateTimeOffset now)
    {
        var from = now - period;
        var buckets = state.Buckets.Where(b => b.Start + options.BucketLength > from && b.Start < now).ToList();
        var outages = state.Outages.Where(o => (o.End ?? now) > from && o.Start < now).ToList();
        var failovers = decisions
            .Where(d => d.Kind is DecisionKind.AutomaticFailover or DecisionKind.ManualFailover or DecisionKind.Switchover)
            .Where(d => d.At >= from && d.At <= now)
            .OrderBy(d => d.At)
            .Select(d => new SlaFailover(d.At, d.Kind, d.Term, d.OldPrimary, d.NewPrimary, d.Outcome, OutageOf(d, outages, now)))
            .ToList();
        return new SlaReport(environment, tier, from, now,
            buckets.Sum(b => b.ObservedSeconds), buckets.Sum(b => b.WritableSeconds), options.TargetPercent,
            outages, failovers, buckets.Max(b => b.MaxArchiveRpoSeconds),
            state.FirstObservedAt, state.LastObservedAt, state.LastWritable, state.LastError, now);
    }

    /// <summary>
    /// The longest write outage that overlaps the decision's span (decided to completed): a failover's outage starts
    /// before the decision (the primary died, then was detected) and a switchover's after it (the demotion).
    /// </summary>
    public static TimeSpan? OutageOf(DecisionRecord decision, IReadOnlyList<SlaOutage> outages, DateTimeOffset now)
    {
        var end = decision.CompletedAt ?? decision.At;
        return outages
            .Where(o => o.Start <= end && (o.End ?? now) >= decision.At)
            .Select(o => (TimeSpan?)o.Duration(now))
            .Max();
    }

    /// <summary>Parses a period such as <c>30d</c>, <c>12h</c>, <c>90m</c>; null with a reason when it is not one.</summary>
    public static (TimeSpan? Period, string Error) ParsePeriod(string text, SlaOptions options)
    {
        if (string.IsNullOrWhiteSpace(text)) return (TimeSpan.FromDays(30) > options.Retention ? options.Retention : TimeSpan.FromDays(30), "");
        var unit = text[^1];
        if (char.IsAsciiDigit(unit) || !int.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0)
            return (null, $"period '{text}' is not a number followed by m, h or d (e.g. 30d, 12h, 90m).");
        TimeSpan? period = unit switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
        if (period is null) return (null, $"period '{text}' has unit '{unit}'; expected m, h or d (e.g. 30d, 12h, 90m).");
        if (period > options.Retention)
            return (null, $"period '{text}' reaches beyond the {options.Retention.TotalDays:0.#} days of history kept (ControlPlane:Sla:Retention).");
        return (period, "");
    }
}
