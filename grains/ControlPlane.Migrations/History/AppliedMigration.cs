namespace ControlPlane.Migrations.History;

/// <summary>One row of a target's history table: a version applied to that schema, by whom, when, under which change.</summary>
public sealed record AppliedMigration(
    long Version, string Checksum, DateTimeOffset AppliedAt, string AppliedBy, TimeSpan Duration, string ChangeId);

/// <summary>How a target's history disagrees with the set.</summary>
public enum DriftKind
{
    /// <summary>The applied file was edited afterwards: its checksum no longer matches.</summary>
    ChecksumMismatch,

    /// <summary>The target applied a version the set does not contain.</summary>
    UnknownVersion,

    /// <summary>The set has a version below the newest applied one that the target never applied.</summary>
    MissingVersion,

    /// <summary>The history records the same version more than once.</summary>
    AppliedTwice,
}

/// <summary>One disagreement, with a message an operator can act on.</summary>
public sealed record DriftFinding(DriftKind Kind, long Version, string Message);

/// <summary>
/// A target compared with a set: the versions still to apply (in order) and the drift that blocks applying them.
/// A target with drift gets nothing until an operator resolves it.
/// </summary>
public sealed record TargetComparison(IReadOnlyList<long> Pending, IReadOnlyList<DriftFinding> Drift)
{
    public bool Blocked => Drift.Count > 0;

    public bool UpToDate => Pending.Count == 0 && Drift.Count == 0;
}
