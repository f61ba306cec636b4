namespace ControlPlane.Grains.Consistency;

/// <summary>How replica consistency is checked (<c>ControlPlane:Consistency</c>).</summary>
public sealed class ConsistencySettings
{
    public const string Section = "ControlPlane:Consistency";

    /// <summary>How often every tier is checked; zero: only on request. The first scheduled check runs one interval after activation.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long each standby may take to replay up to the check's LSN before it is reported as lagging.</summary>
    public TimeSpan ReplayTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long taking the SHARE locks on the primary may take (writers wait only while a check's snapshots open).</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>About how many rows one key-range chunk holds.</summary>
    public int RowsPerChunk { get; set; } = 100_000;

    /// <summary>Differing ranges narrowed and reported per table and standby, at most.</summary>
    public int MaxRangesPerTable { get; set; } = 20;

    /// <summary>Tier → the tables its scheduled check compares (empty or absent: every permanent user table).</summary>
    public Dictionary<string, List<string>> Tables { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Cross-tier pairs: the same fact read from two tiers where data is mirrored; each is compared when its left tier is checked.</summary>
    public List<CrossTierPair> Pairs { get; set; } = [];

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval < TimeSpan.Zero) errors.Add($"{Section}:Interval {Interval} is negative; expected zero (off) or a positive interval.");
        if (Interval > TimeSpan.Zero && Interval < TimeSpan.FromSeconds(10)) errors.Add($"{Section}:Interval {Interval} is too short; expected at least 00:00:10.");
        if (ReplayTimeout <= TimeSpan.Zero) errors.Add($"{Section}:ReplayTimeout {ReplayTimeout} must be positive.");
        if (LockTimeout <= TimeSpan.Zero) errors.Add($"{Section}:LockTimeout {LockTimeout} must be positive.");
        if (RowsPerChunk is < 100 or > 100_000_000) errors.Add($"{Section}:RowsPerChunk {RowsPerChunk} is out of range; expected 100 to 100000000.");
        if (MaxRangesPerTable is < 1 or > 1000) errors.Add($"{Section}:MaxRangesPerTable {MaxRangesPerTable} is out of range; expected 1 to 1000.");
        for (var i = 0; i < Pairs.Count; i++)
        {
            var p = Pairs[i];
            if (string.IsNullOrWhiteSpace(p.Name)) errors.Add($"{Section}:Pairs:{i}:Name is empty; expected a name for the pair.");
            if (string.IsNullOrWhiteSpace(p.LeftTier) || string.IsNullOrWhiteSpace(p.RightTier)) errors.Add($"{Section}:Pairs:{i} needs LeftTier and RightTier.");
            if (string.IsNullOrWhiteSpace(p.LeftQuery) || string.IsNullOrWhiteSpace(p.RightQuery)) errors.Add($"{Section}:Pairs:{i} needs LeftQuery and RightQuery (each returns one value).");
        }
        if (Pairs.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count() != Pairs.Count) errors.Add($"{Section}:Pairs has duplicate names.");
        return errors;
    }
}

/// <summary>
/// One fact read from two tiers that should agree (a tenant's order count in <c>oltp</c> and in <c>olap</c>, say).
/// Each query runs read-only on its tier's primary and returns one value; the values are compared as text.
/// </summary>
public sealed class CrossTierPair
{
    public string Name { get; set; } = "";
    public string LeftTier { get; set; } = "";
    public string LeftQuery { get; set; } = "";
    public string RightTier { get; set; } = "";
    public string RightQuery { get; set; } = "";
}
