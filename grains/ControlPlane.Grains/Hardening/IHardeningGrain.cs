namespace ControlPlane.Grains.Hardening;

/// <summary>The hardening audit of one tier: on request and on schedule, with the last result and a score trend. Key: <c>env/tier</c>.</summary>
[Alias("controlplane.IHardeningGrain")]
public interface IHardeningGrain : IGrainWithStringKey
{
    /// <summary>Audits every replica of the tier (or only <paramref name="replica"/>) now. A whole-tier audit becomes
    /// the last result and a point of the trend; a one-replica audit is only answered.</summary>
    [Alias("Audit")]
    Task<TierAudit> Audit(string? replica);

    /// <summary>The last whole-tier audit, null before the first.</summary>
    [Alias("GetLast"), AlwaysInterleave]
    Task<TierAudit?> GetLast();

    /// <summary>The newest <paramref name="limit"/> points of the score trend, oldest first.</summary>
    [Alias("GetTrend"), AlwaysInterleave]
    Task<IReadOnlyList<AuditScorePoint>> GetTrend(int limit);

    /// <summary>Keeps the scheduled audit running (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();
}

/// <summary>Persistent part of the hardening grain: the last audit and the bounded score trend.</summary>
[GenerateSerializer, Alias("controlplane.HardeningState")]
public sealed class HardeningState
{
    [Id(0)] public TierAudit? Last { get; set; }
    [Id(1)] public List<AuditScorePoint> Trend { get; set; } = [];
}
