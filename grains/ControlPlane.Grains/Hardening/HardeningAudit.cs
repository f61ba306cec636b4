using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Grains.Hardening;

/// <summary>
/// Runs every check over one instance's facts and scores the result. Pure. A failed check that the policy lists as
/// an accepted exception becomes <see cref="CheckResult.Accepted"/> with the reason: still visible, never a pass.
/// </summary>
public static class HardeningAudit
{
    public static IReadOnlyList<HardeningFinding> Run(HardeningFacts facts, HardeningContext context)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(context);
        return HardeningChecks.All.Select(check => Judge(check, facts, context)).ToList();
    }

    /// <summary>Every check unknown, with why: the instance could not be read at all.</summary>
    public static IReadOnlyList<HardeningFinding> Unreachable(string why, HardeningContext context) =>
        HardeningChecks.All.Select(c => Finding(c, Verdict.Unknown(why), context)).ToList();

    private static HardeningFinding Judge(HardeningCheck check, HardeningFacts facts, HardeningContext context) =>
        Finding(check, check.Evaluate(facts, context), context);

    private static HardeningFinding Finding(HardeningCheck check, Verdict verdict, HardeningContext context)
    {
        var reason = verdict.Result == CheckResult.Fail ? context.Expectations.AcceptedExceptions.GetValueOrDefault(check.Id) : null;
        return new HardeningFinding(check.Id, check.Title, check.Severity, reason is null ? verdict.Result : CheckResult.Accepted,
            verdict.Current, check.Expected, check.Rationale, check.Remediation, reason ?? "");
    }

    /// <summary>
    /// 0–100: the severity-weighted share of judged checks that pass (high 3, medium 2, low 1). Accepted exceptions
    /// count as judged and passed (the operator decided them); unknowns are left out. No judged check: 0.
    /// </summary>
    public static double Score(IReadOnlyList<HardeningFinding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var judged = findings.Where(f => f.Result != CheckResult.Unknown).ToList();
        var total = judged.Sum(f => Weight(f.Severity));
        if (total == 0) return 0;
        var passed = judged.Where(f => f.Result is CheckResult.Pass or CheckResult.Accepted).Sum(f => Weight(f.Severity));
        return Math.Round(100.0 * passed / total, 1);
    }

    /// <summary>A tier scores as its weakest replica.</summary>
    public static double TierScore(IReadOnlyList<ReplicaAudit> replicas) => replicas.Count == 0 ? 0 : replicas.Min(r => r.Score);

    public static AuditScorePoint Point(TierAudit audit)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var failed = audit.Replicas.SelectMany(r => r.Findings).Where(f => f.Result == CheckResult.Fail).ToList();
        return new AuditScorePoint(audit.AuditedAt, audit.Score, failed.Count, failed.Count(f => f.Severity == CheckSeverity.High));
    }

    private static int Weight(CheckSeverity severity) => severity switch
    {
        CheckSeverity.High => 3,
        CheckSeverity.Medium => 2,
        _ => 1,
    };
}
