namespace ControlPlane.Grains.Parity;

/// <summary>Schema parity (<c>ControlPlane:Parity</c>): the drift check's schedule and template, and how much history a target keeps.</summary>
public sealed class ParityOptions
{
    public const string Section = "ControlPlane:Parity";

    /// <summary>How often every tier's tenant schemas are compared with its template; zero: never (CheckDrift still runs on request).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The schema of each tier's database every tenant schema should match.</summary>
    public string TemplateSchema { get; set; } = "tenant_template";

    /// <summary>Snapshots a target keeps; the oldest goes first.</summary>
    public int MaxSnapshots { get; set; } = 200;

    /// <summary>Deadline of one schema's read.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Differences of a drifted schema kept in the check's summary (and the status).</summary>
    public int SummaryLines { get; set; } = 20;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval < TimeSpan.Zero) errors.Add($"{Section}:Interval {Interval} is negative; expected zero (off) or a positive interval.");
        if (!System.Text.RegularExpressions.Regex.IsMatch(TemplateSchema ?? "", ParityTargets.IdentifierPattern))
            errors.Add($"{Section}:TemplateSchema '{TemplateSchema}' is invalid; expected a schema name matching {ParityTargets.IdentifierPattern}.");
        if (MaxSnapshots is < 1 or > 10_000) errors.Add($"{Section}:MaxSnapshots {MaxSnapshots} is out of range; expected 1 to 10000.");
        if (Timeout <= TimeSpan.Zero) errors.Add($"{Section}:Timeout {Timeout} must be positive.");
        if (SummaryLines is < 1 or > 1000) errors.Add($"{Section}:SummaryLines {SummaryLines} is out of range; expected 1 to 1000.");
        return errors;
    }
}
