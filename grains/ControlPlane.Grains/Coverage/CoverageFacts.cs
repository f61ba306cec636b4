namespace ControlPlane.Grains.Coverage;

/// <summary>
/// Everything the evidence rules read about one tier, gathered from the live grains at <see cref="Now"/>. Plain values
/// only, so the rules are pure and every case is a unit test.
/// </summary>
public sealed record TierCoverageFacts(
    string Environment,
    string Tier,
    DateTimeOffset Now,
    HaFacts Ha,
    PoolFacts Pools,
    BackupFacts Backups,
    ChangeFacts Changes,
    TenantFacts Tenants,
    MonitoringFacts Monitoring,
    HardeningFacts Hardening,
    GatewayFacts Gateway,
    ParityFacts Parity,
    CapacityFacts? Capacity = null,
    IntegrationFacts? Integration = null);

/// <summary>The tier's topology and HA policy, and its newest switchover or failover (a rehearsal, or the real thing).</summary>
public sealed record HaFacts(
    int Standbys,
    int HealthyStandbys,
    bool PrimaryHealthy,
    bool AutoFailover,
    bool Paused,
    DateTimeOffset? LastRehearsalAt,
    bool? LastRehearsalSucceeded,
    string LastRehearsalDetail);

public sealed record PoolFacts(
    DateTimeOffset? SampledAt,
    int Capacity,
    int Granted,
    IReadOnlyList<string> Alerts,
    int LeakSuspects,
    IReadOnlyList<string> TenantsWithoutPlan);

/// <param name="MaxBackupAge">How old the newest verified backup may be: the schedule's period plus slack.</param>
/// <param name="MaxDrillAge">How old the newest drill may be: the drill schedule's period plus slack.</param>
public sealed record BackupFacts(
    string Schedule,
    string DrillSchedule,
    bool ArchiveWal,
    TimeSpan MaxBackupAge,
    TimeSpan MaxDrillAge,
    DateTimeOffset? NewestVerifiedAt,
    string NewestVerifiedId,
    string LastAttemptError,
    DrillFact? LastDrill,
    TimeSpan RtoTarget,
    TimeSpan RpoTarget,
    DateTimeOffset? ArchiveMeasuredAt,
    TimeSpan ArchiveRpo,
    bool ArchiveStreaming,
    string ArchiveError);

/// <summary>The newest finished drill.</summary>
public sealed record DrillFact(string Id, DateTimeOffset At, bool Passed, TimeSpan? Rto, string Detail);

/// <summary>The tier's schema changes: which are halted, which targets drifted or failed, the newest completed one.</summary>
public sealed record ChangeFacts(
    int RequiredApprovals,
    int Changes,
    IReadOnlyList<string> Halted,
    IReadOnlyList<string> Drifted,
    IReadOnlyList<string> FailedTargets,
    DateTimeOffset? LastCompletedAt);

/// <summary>The active tenants placed on the tier and their newest cross-tenant probe.</summary>
public sealed record TenantFacts(IReadOnlyList<TenantProbeFact> Tenants);

/// <param name="At">Null when the tenant was never probed.</param>
/// <param name="LeaksHere">Attempts of its newest probe that reached another tenant's data on this tier.</param>
public sealed record TenantProbeFact(string Tenant, DateTimeOffset? At, int LeaksHere);

/// <param name="SampledAt">Per replica, when its sampler last read the instance (null: never).</param>
/// <param name="FiringCritical">Critical alerts of the tier firing now, as fingerprints.</param>
public sealed record MonitoringFacts(IReadOnlyDictionary<string, DateTimeOffset?> SampledAt, int EnabledRules, IReadOnlyList<string> FiringCritical);

/// <param name="MaxAge">How old the last audit may be (twice the schedule); zero when the schedule is off.</param>
public sealed record HardeningFacts(DateTimeOffset? AuditedAt, double Score, IReadOnlyList<string> FailedHigh, TimeSpan MaxAge);

/// <summary>How the gRPC gateway protects the fleet's commands.</summary>
public sealed record GatewayFacts(bool AuthRequired, bool Tls, bool LoopbackOnly);

/// <summary>What the replicas of the tier report about themselves (server versions by replica).</summary>
public sealed record ParityFacts(IReadOnlyDictionary<string, string?> ServerVersions);

/// <summary>
/// The tier's capacity planning: when it was last sampled, how many resources are forecast against a limit, the one
/// that reaches its limit soonest, and whether the alert that warns before it does is on (rule CapacityForecastShort).
/// </summary>
public sealed record CapacityFacts(DateTimeOffset? SampledAt, int ForecastsWithLimit, string SoonestResource, double? SoonestDays,
    bool HeadroomAlertEnabled, double HeadroomAlertDays);

/// <summary>The tier's integration checks: the last replica consistency check and the last <c>cpctl verify</c>.</summary>
public sealed record IntegrationFacts(DateTimeOffset? ConsistencyAt, bool? Consistent, string ConsistencyDetail,
    DateTimeOffset? VerifyAt, bool? VerifyPassed, string VerifyDetail);

/// <summary>How old evidence may be before it is stale. Defaults documented in docs/operability.md.</summary>
public sealed record CoverageThresholds
{
    public TimeSpan RehearsalMaxAge { get; init; } = TimeSpan.FromDays(30);
    public TimeSpan ProbeMaxAge { get; init; } = TimeSpan.FromDays(7);
    public TimeSpan SampleMaxAge { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan ChangeMaxAge { get; init; } = TimeSpan.FromDays(90);
    public TimeSpan ConsistencyMaxAge { get; init; } = TimeSpan.FromDays(2);
    public TimeSpan VerifyMaxAge { get; init; } = TimeSpan.FromDays(30);
}
