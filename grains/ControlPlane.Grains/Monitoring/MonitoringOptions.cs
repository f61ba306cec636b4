namespace ControlPlane.Grains.Monitoring;

/// <summary>Sampling intervals, regression detection and the optional webhook (<c>ControlPlane:Monitoring</c>, docs/monitoring.md).</summary>
public sealed class MonitoringOptions
{
    public const string Section = "ControlPlane:Monitoring";

    /// <summary>Locks, transactions, wraparound, slots, cache: a handful of catalog reads.</summary>
    public TimeSpan CheapInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>pg_stat_statements, table scans, indexes: heavier reads, every few minutes.</summary>
    public TimeSpan HeavyInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A statement whose interval mean is this many times its baseline is a regression.</summary>
    public double RegressionFactor { get; set; } = 5;

    /// <summary>Interval means below this (ms) are never regressions: noise of fast statements.</summary>
    public double RegressionFloorMs { get; set; } = 1;

    /// <summary>Alertmanager-style webhook receiving every firing and resolved alert; empty: none (settable per environment by RPC).</summary>
    public string WebhookUrl { get; set; } = "";

    /// <summary>Attempts per webhook delivery before it is given up (logged), with doubling backoff from half a second.</summary>
    public int WebhookAttempts { get; set; } = 5;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (CheapInterval < TimeSpan.FromSeconds(1) || CheapInterval > TimeSpan.FromMinutes(10))
            errors.Add($"{Section}:CheapInterval is {CheapInterval}; expected between 00:00:01 and 00:10:00.");
        if (HeavyInterval < TimeSpan.FromSeconds(1) || HeavyInterval > TimeSpan.FromHours(6))
            errors.Add($"{Section}:HeavyInterval is {HeavyInterval}; expected between 00:00:01 and 06:00:00.");
        if (RegressionFactor is < 1.5 or > 1000) errors.Add($"{Section}:RegressionFactor is {RegressionFactor}; expected 1.5 to 1000.");
        if (RegressionFloorMs is < 0 or > 60_000) errors.Add($"{Section}:RegressionFloorMs is {RegressionFloorMs}; expected 0 to 60000.");
        if (WebhookUrl.Length > 0 && AlertRuleValidation.HttpUrlProblem(WebhookUrl) is { } problem) errors.Add($"{Section}:WebhookUrl {problem}");
        if (WebhookAttempts is < 1 or > 20) errors.Add($"{Section}:WebhookAttempts is {WebhookAttempts}; expected 1 to 20.");
        return errors;
    }
}
