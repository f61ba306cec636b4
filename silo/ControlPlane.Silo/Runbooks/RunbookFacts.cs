namespace ControlPlane.Silo.Runbooks;

/// <summary>
/// The live state a runbook is rendered from: plain values, already formatted, so templates only place them. Member
/// names reach templates in snake_case (Scriban's standard renamer): <c>Primary.DataDirectory</c> is
/// <c>primary.data_directory</c>.
/// </summary>
public sealed record RunbookFacts(
    string Environment,
    string Tier,
    string Cpctl,
    long Term,
    string Health,
    bool Paused,
    RunbookReplica Primary,
    IReadOnlyList<RunbookReplica> Standbys,
    RunbookHa Ha,
    RunbookBackups Backups,
    RunbookPool Pool,
    IReadOnlyList<RunbookTenant> Tenants,
    IReadOnlyList<RunbookChange> Changes,
    string RenderedAt)
{
    /// <summary>The standby a switchover or failover would pick first: healthy, least lag (null when none).</summary>
    public RunbookReplica? Candidate => Standbys.Where(s => s.Healthy).OrderBy(s => s.LagBytes).FirstOrDefault() ?? Standbys.FirstOrDefault();

    public IReadOnlyList<RunbookReplica> Replicas => [Primary, .. Standbys];
}

/// <param name="Psql">A psql invocation that connects to it as the control plane's login (password read from its file, never shown).</param>
public sealed record RunbookReplica(
    string Name, string Host, int Port, string Role, bool Healthy, long LagBytes, string DataDirectory, string Database, string User, string PasswordFile, string Psql);

public sealed record RunbookHa(bool AutoFailover, int FailureThreshold, int ProbeIntervalMs, string SynchronousMode, long MaxLagOnFailoverBytes, double MaxLagOnFailoverSeconds)
{
    /// <summary>The shortest outage that triggers an automatic failover.</summary>
    public int DetectionMs => FailureThreshold * ProbeIntervalMs;
}

public sealed record RunbookBackups(
    string Schedule, string DrillSchedule, string RpoTarget, string RtoTarget, bool ArchiveWal, string Repository,
    string NewestBackup, string NewestBackupAt, string ArchiveRpo, bool ArchiveStreaming);

public sealed record RunbookPool(int Capacity, int LeakSuspectSeconds, int TerminateIdleInTransactionSeconds, int DefaultTtlSeconds, IReadOnlyList<RunbookPoolTenant> Tenants);

public sealed record RunbookPoolTenant(string Name, int Granted, int InUse, int Leases, int LeakSuspects);

public sealed record RunbookTenant(string Name, string Placement, string Role);

public sealed record RunbookChange(string Id, string Phase, string Description);
