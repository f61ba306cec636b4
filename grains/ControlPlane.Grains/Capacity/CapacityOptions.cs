namespace ControlPlane.Grains.Capacity;

/// <summary>
/// Capacity planning (<c>ControlPlane:Capacity</c>): how often each tier is sampled, how its history is downsampled,
/// the thresholds of the recommendations, and per tier its size limit and prices for the cost view.
/// </summary>
public sealed class CapacityOptions
{
    public const string Section = "ControlPlane:Capacity";

    /// <summary>How often every tier is sampled; zero: never (the view then has no history).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Width of a history bucket at first; doubles whenever a series holds more than <see cref="MaxPoints"/>.</summary>
    public TimeSpan Resolution { get; set; } = TimeSpan.FromHours(1);

    public int MaxPoints { get; set; } = 1000;

    /// <summary>Deadline of one replica's sample.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A resource forecast to reach its limit within this many days gets a recommendation (the alert has its own threshold, rule CapacityForecastShort).</summary>
    public double RecommendWithinDays { get; set; } = 30;

    public double HorizonDays { get; set; } = 3650;

    /// <summary>A plain table bigger than this is worth partitioning.</summary>
    public long PartitionTableBytes { get; set; } = 50L * 1024 * 1024 * 1024;

    /// <summary>A tenant holding more than this share of its tier's data (with other tenants beside it) is worth moving.</summary>
    public double HeavyTenantShare { get; set; } = 0.5;

    /// <summary>Transactions per second one replica should serve before the tier wants another standby for reads.</summary>
    public double ReadTpsPerReplica { get; set; } = 2000;

    /// <summary>Connections used over max_connections above which a standby is saturated.</summary>
    public double SaturatedConnections { get; set; } = 0.8;

    public Dictionary<string, CapacityTierOptions> Tiers { get; set; } = new(StringComparer.Ordinal);

    public CapacityTierOptions For(string tier) => Tiers.TryGetValue(tier, out var t) ? t : CapacityTierOptions.None;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval < TimeSpan.Zero) errors.Add($"{Section}:Interval {Interval} is negative; expected zero (off) or a positive interval.");
        if (Resolution <= TimeSpan.Zero) errors.Add($"{Section}:Resolution {Resolution} must be positive.");
        if (MaxPoints is < 10 or > 100_000) errors.Add($"{Section}:MaxPoints {MaxPoints} is out of range; expected 10 to 100000.");
        if (Timeout <= TimeSpan.Zero) errors.Add($"{Section}:Timeout {Timeout} must be positive.");
        if (RecommendWithinDays <= 0) errors.Add($"{Section}:RecommendWithinDays {RecommendWithinDays} must be positive.");
        if (HorizonDays <= 0) errors.Add($"{Section}:HorizonDays {HorizonDays} must be positive.");
        if (PartitionTableBytes <= 0) errors.Add($"{Section}:PartitionTableBytes {PartitionTableBytes} must be positive.");
        if (HeavyTenantShare is <= 0 or > 1) errors.Add($"{Section}:HeavyTenantShare {HeavyTenantShare} is out of range; expected more than 0, at most 1.");
        if (ReadTpsPerReplica <= 0) errors.Add($"{Section}:ReadTpsPerReplica {ReadTpsPerReplica} must be positive.");
        if (SaturatedConnections is <= 0 or > 1) errors.Add($"{Section}:SaturatedConnections {SaturatedConnections} is out of range; expected more than 0, at most 1.");
        foreach (var (tier, t) in Tiers)
        {
            if (t.SizeLimitBytes is <= 0) errors.Add($"{Section}:Tiers:{tier}:SizeLimitBytes {t.SizeLimitBytes} must be positive.");
            if (t.PricePerGbMonth < 0) errors.Add($"{Section}:Tiers:{tier}:PricePerGbMonth {t.PricePerGbMonth} is negative.");
            if (t.PricePerVcpuHour < 0) errors.Add($"{Section}:Tiers:{tier}:PricePerVcpuHour {t.PricePerVcpuHour} is negative.");
            if (t.VcpusPerReplica < 0) errors.Add($"{Section}:Tiers:{tier}:VcpusPerReplica {t.VcpusPerReplica} is negative.");
        }
        return errors;
    }
}

/// <summary>One tier's capacity settings: the size its data may reach (a volume quota, a plan's limit), and prices.</summary>
public sealed class CapacityTierOptions
{
    public static readonly CapacityTierOptions None = new();

    /// <summary>What the tier's databases may hold together (a volume quota or a plan limit); null: only the disk limits.</summary>
    public long? SizeLimitBytes { get; set; }

    /// <summary>Storage price per GiB and month, for every replica's copy.</summary>
    public double PricePerGbMonth { get; set; }

    public double PricePerVcpuHour { get; set; }

    public double VcpusPerReplica { get; set; }
}
