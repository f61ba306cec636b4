namespace ControlPlane.Grains.Verify;

/// <summary>What <c>cpctl verify</c> runs (<c>ControlPlane:Verify</c>).</summary>
public sealed class VerifySettings
{
    public const string Section = "ControlPlane:Verify";

    /// <summary>The smoke queries of a tier without its own: the server answers, and its catalog reads.</summary>
    public static readonly IReadOnlyList<string> DefaultSmokeQueries = ["SELECT 1", "SELECT count(*) FROM pg_catalog.pg_class"];

    /// <summary>Tier → its smoke queries (each returns one value; run read-only on every replica).</summary>
    public Dictionary<string, List<string>> SmokeQueries { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Environments where the switchover rehearsal never runs.</summary>
    public List<string> ProductionEnvironments { get; set; } = ["prod", "production"];

    /// <summary>How long each leg of the switchover rehearsal (over, and back) may take.</summary>
    public TimeSpan SwitchoverTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public IReadOnlyList<string> SmokeQueriesOf(string tier) =>
        SmokeQueries.TryGetValue(tier, out var queries) && queries.Count > 0 ? queries : DefaultSmokeQueries;

    public bool IsProduction(string environment) => ProductionEnvironments.Contains(environment, StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (SwitchoverTimeout <= TimeSpan.Zero) errors.Add($"{Section}:SwitchoverTimeout {SwitchoverTimeout} must be positive.");
        foreach (var (tier, queries) in SmokeQueries)
        {
            if (queries.Any(string.IsNullOrWhiteSpace)) errors.Add($"{Section}:SmokeQueries:{tier} has an empty query.");
        }
        return errors;
    }
}
