namespace ControlPlane.Grains.Backups;

/// <summary>
/// Backup defaults of the silo (<c>ControlPlane:Backups</c>): the policy a tier starts with until
/// <c>SetBackupPolicy</c> changes it, and where restores and scratch space go.
/// </summary>
public sealed class BackupOptions
{
    public const string Section = "ControlPlane:Backups";

    /// <summary>The policy of a tier that has none yet. Repository defaults to <c>&lt;data-dir&gt;/backups</c>.</summary>
    public BackupPolicy DefaultPolicy { get; set; } = new();

    /// <summary>
    /// Per-tier policies from <c>ControlPlane:Backups:Tiers:&lt;tier&gt;:*</c>: each is <see cref="DefaultPolicy"/> with the
    /// fields the section sets. A tier takes its policy from here (or the default) the first time its backup grain
    /// runs; <c>SetBackupPolicy</c> changes it afterwards.
    /// </summary>
    public Dictionary<string, BackupPolicy> TierPolicies { get; } = new(StringComparer.Ordinal);

    /// <summary>The policy a tier starts with.</summary>
    public BackupPolicy PolicyFor(string tier) => TierPolicies.TryGetValue(tier, out var policy) ? policy : DefaultPolicy;

    /// <summary>Where restored instances and drill scratch instances live (default <c>&lt;data-dir&gt;/restores</c>).</summary>
    public string RestoreDirectory { get; set; } = "";

    /// <summary>How often a backup grain measures its archive, follows the primary and checks its schedules.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest tables per database whose row counts are recorded at each backup and compared by drills.</summary>
    public int CountedTablesPerDatabase { get; set; } = 5;

    /// <summary>How long recording consistent counts may wait for writers before it gives up (the backup still counts).</summary>
    public TimeSpan CountLockTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public IReadOnlyList<string> Validate()
    {
        var errors = DefaultPolicy.Validate().Select(e => $"{Section}:DefaultPolicy: {e}").ToList();
        foreach (var (tier, policy) in TierPolicies) errors.AddRange(policy.Validate().Select(e => $"{Section}:Tiers:{tier}: {e}"));
        if (TickInterval < TimeSpan.FromMilliseconds(100) || TickInterval > TimeSpan.FromMinutes(1))
            errors.Add($"{Section}:TickInterval is {TickInterval}; expected between 00:00:00.1 and 00:01:00.");
        if (CountedTablesPerDatabase is < 0 or > 100)
            errors.Add($"{Section}:CountedTablesPerDatabase is {CountedTablesPerDatabase}; expected 0 to 100.");
        if (!Path.IsPathFullyQualified(RestoreDirectory))
            errors.Add($"{Section}:RestoreDirectory '{RestoreDirectory}' is not an absolute path.");
        return errors;
    }
}
