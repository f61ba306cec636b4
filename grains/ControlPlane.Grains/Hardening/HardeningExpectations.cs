namespace ControlPlane.Grains.Hardening;

/// <summary>
/// What the operator's policy expects of every instance (<c>ControlPlane:Hardening</c>). The defaults describe the
/// fleet the silo provisions; a check that fails is reported as accepted only when <see cref="AcceptedExceptions"/>
/// names its id with a reason.
/// </summary>
public sealed class HardeningExpectations
{
    public const string Section = "ControlPlane:Hardening";

    /// <summary>How often every tier is audited; zero: only on request.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Score points kept per tier.</summary>
    public int TrendLength { get; set; } = 168;

    /// <summary>Deadline of one replica's fact reading.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public List<string> ExpectedSuperusers { get; set; } = ["postgres"];
    public List<string> ExpectedReplicationRoles { get; set; } = ["replicator"];
    public List<string> ExpectedCreateRoleRoles { get; set; } = [];
    public List<string> ExpectedBypassRlsRoles { get; set; } = [];

    /// <summary>Login roles (other than the expected superusers and replication roles) must carry VALID UNTIL.</summary>
    public bool RequirePasswordExpiry { get; set; }

    /// <summary>pgaudit must be in shared_preload_libraries.</summary>
    public bool RequirePgAudit { get; set; }

    /// <summary>The backup repositories sit on storage encrypted at rest (an encrypted volume or bucket): declared, since
    /// the control plane cannot see it over SQL.</summary>
    public bool BackupRepositoryEncrypted { get; set; }

    /// <summary>Check id → the documented reason it is knowingly accepted.</summary>
    public Dictionary<string, string> AcceptedExceptions { get; set; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Interval < TimeSpan.Zero) errors.Add($"{Section}:Interval {Interval} is negative; expected zero (off) or a positive interval.");
        if (Interval > TimeSpan.Zero && Interval < TimeSpan.FromSeconds(10)) errors.Add($"{Section}:Interval {Interval} is too short; expected at least 00:00:10.");
        if (TrendLength is < 1 or > 10_000) errors.Add($"{Section}:TrendLength {TrendLength} is out of range; expected 1 to 10000.");
        if (Timeout <= TimeSpan.Zero) errors.Add($"{Section}:Timeout {Timeout} must be positive.");
        foreach (var (id, reason) in AcceptedExceptions)
        {
            if (!HardeningChecks.Ids.Contains(id)) errors.Add($"{Section}:AcceptedExceptions names check '{id}', which does not exist; expected one of the ids in docs/hardening.md.");
            else if (string.IsNullOrWhiteSpace(reason)) errors.Add($"{Section}:AcceptedExceptions:{id} has no reason; an accepted exception must say why.");
        }
        return errors;
    }
}

/// <summary>Everything a check may judge besides the instance's own facts: the policy and the tier's pool.</summary>
/// <param name="PoolCapacity">Connections the tier's pool may grant; null when the pool has not sampled yet.</param>
/// <param name="NoPool">Why there is no pool to compare with at all (the catalog lends no connections); null for a tier.</param>
public sealed record HardeningContext(HardeningExpectations Expectations, int? PoolCapacity, int ControlPlaneReserve, DateTimeOffset Now, string? NoPool = null);
