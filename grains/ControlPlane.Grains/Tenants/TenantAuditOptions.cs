namespace ControlPlane.Grains.Tenants;

/// <summary>
/// The isolation audit's and the cross-tenant probe's schedule (<c>ControlPlane:Tenants</c>). Both also run on demand
/// (AuditTenantIsolation, ProbeTenant) whatever the schedule.
/// </summary>
public sealed class TenantAuditOptions
{
    public const string Section = "ControlPlane:Tenants";

    /// <summary>How often each tier's isolation audit runs; zero: never on schedule.</summary>
    public TimeSpan AuditInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often each tier runs a round of the cross-tenant probe over a sample of tenant pairs; zero: never on schedule.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Tenant pairs (A probes B) sampled per tier and round, at random among the active tenants placed on the tier.</summary>
    public int ProbePairs { get; set; } = 10;

    /// <summary>Deadline of one tier's catalog read.</summary>
    public TimeSpan AuditTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (AuditInterval < TimeSpan.Zero || (AuditInterval > TimeSpan.Zero && AuditInterval < TimeSpan.FromSeconds(1)))
            errors.Add($"{Section}:AuditInterval is {AuditInterval}; expected zero (off) or at least 00:00:01.");
        if (ProbeInterval < TimeSpan.Zero || (ProbeInterval > TimeSpan.Zero && ProbeInterval < TimeSpan.FromSeconds(1)))
            errors.Add($"{Section}:ProbeInterval is {ProbeInterval}; expected zero (off) or at least 00:00:01.");
        if (ProbePairs is < 1 or > 1000) errors.Add($"{Section}:ProbePairs is {ProbePairs}; expected 1 to 1000.");
        if (AuditTimeout < TimeSpan.FromSeconds(1) || AuditTimeout > TimeSpan.FromHours(1))
            errors.Add($"{Section}:AuditTimeout is {AuditTimeout}; expected 00:00:01 to 01:00:00.");
        return errors;
    }
}

/// <summary>Which tenant probes which in a scheduled round: a random sample of ordered pairs of distinct tenants.</summary>
public static class ProbeSampling
{
    /// <summary>Up to <paramref name="count"/> distinct pairs (A, B), A ≠ B; every pair when there are no more than that.</summary>
    public static IReadOnlyList<(string Prober, string Target)> Pairs(IReadOnlyList<string> tenants, int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        ArgumentNullException.ThrowIfNull(random);
        var names = tenants.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var n = names.Count;
        if (n < 2 || count < 1) return [];
        var total = (long)n * (n - 1);
        if (total <= count) return [.. from a in names from b in names where a != b select (a, b)];
        var chosen = new HashSet<(int, int)>();
        while (chosen.Count < count)
        {
            var a = random.Next(n);
            var b = random.Next(n - 1);
            if (b >= a) b++;
            chosen.Add((a, b));
        }
        return [.. chosen.Select(p => (names[p.Item1], names[p.Item2])).OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2, StringComparer.Ordinal)];
    }
}
