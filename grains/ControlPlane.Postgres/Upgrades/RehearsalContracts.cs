using ControlPlane.Postgres.Backups;

namespace ControlPlane.Postgres.Upgrades;

/// <summary>
/// What a rehearsal needs: the restore of the tier's backup (its target data directory is
/// <see cref="RehearsalScratch.SourceData"/>), the target installation, the client tools to copy with, and the
/// tier's smoke queries. Credentials are the tier's superuser (the restored copy keeps them; the target is initialised with them).
/// </summary>
public sealed record UpgradeRehearsalRequest(
    RestoreRequest Restore,
    RehearsalScratch Scratch,
    PgInstallation Target,
    PgInstallation ClientTools,
    IReadOnlyList<string> SmokeQueries)
{
    /// <summary>pg_dump/pg_restore parallel jobs (dump).</summary>
    public int Jobs { get; init; } = 2;

    /// <summary>Rows the rehearsal writes to the source while the subscriber catches up (logical), so lag and cutover have traffic to measure.</summary>
    public int CatchUpWrites { get; init; } = 500;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(2);
}

/// <summary>One finished phase, reported as soon as it ends (the grain persists it).</summary>
public sealed record RehearsalPhase(string Name, TimeSpan Duration, string Detail);

public sealed record TableRows(string Database, string Table, long Before, long After);

public sealed record SmokeOutcome(string Database, string Query, bool Passed, string Detail);

public sealed record RehearsalOutcome(
    IReadOnlyList<string> Issues,
    IReadOnlyList<TableRows> Counts,
    IReadOnlyList<SmokeOutcome> Smoke,
    TimeSpan? CutoverWriteGap,
    long? MaxLagBytes)
{
    /// <summary>Why the rehearsal could not complete although no step broke (pg_upgrade --check refused the clusters); the issues say what.</summary>
    public string? Failure { get; init; }
}

/// <summary>
/// The scratch directory of one rehearsal: the restored source, the upgraded target and working files. It carries a
/// marker file; <see cref="UpgradeRehearsalRunner.DestroyAsync"/> refuses a directory without it.
/// </summary>
public sealed record RehearsalScratch(string Root)
{
    public const string MarkerFile = ".controlplane-upgrade-rehearsal";

    public string SourceData => Path.Combine(Root, "source", "data");

    public string TargetData => Path.Combine(Root, "target", "data");

    public string Work => Path.Combine(Root, "work");

    /// <summary>pg_upgrade's sockets, when the scratch path is too long for a socket path: a temporary directory named in <see cref="SocketsNote"/>.</summary>
    public const string SocketsPrefix = "cp-pgu-";

    public string SocketsNote => Path.Combine(Root, "sockets");
}
