namespace ControlPlane.Grains.Coverage;

/// <summary>Rules of the areas that watch the fleet: performance monitoring and security hardening; and the two areas
/// whose capability does not exist yet, which say so.</summary>
public static partial class CoverageRules
{
    private static IReadOnlyList<EvidenceItem> Monitoring(TierCoverageFacts f, CoverageThresholds t)
    {
        var m = f.Monitoring;
        var unsampled = m.SampledAt.Where(s => s.Value is null || f.Now - s.Value > t.SampleMaxAge).Select(s => s.Key).ToList();
        var sampling = m.SampledAt.Count == 0
            ? Item("monitoring.sampling", "Every replica sampled", EvidenceState.Stale, "the tier has no replica to sample", $"cpctl tier {f.Tier}")
            : unsampled.Count > 0
                ? Item("monitoring.sampling", "Every replica sampled", EvidenceState.Stale, $"no sample within {Span(t.SampleMaxAge)}: " + List(unsampled),
                    $"cpctl perf {f.Tier} --replica {unsampled[0]}")
                : Item("monitoring.sampling", "Every replica sampled", EvidenceState.Passing, $"{m.SampledAt.Count} replica(s) sampled within {Span(t.SampleMaxAge)}");
        var rules = m.EnabledRules > 0
            ? Item("monitoring.rules", "Alert rules enabled", EvidenceState.Configured, $"{m.EnabledRules} rule(s) enabled")
            : Item("monitoring.rules", "Alert rules enabled", EvidenceState.Failing, "every alert rule is disabled", "cpctl alert rules");
        var firing = m.FiringCritical.Count > 0
            ? Item("monitoring.critical", "No critical alert firing", EvidenceState.Failing, "firing: " + List(m.FiringCritical), "cpctl alerts")
            : Item("monitoring.critical", "No critical alert firing", EvidenceState.Passing, "no critical alert firing on this tier");
        return [sampling, rules, firing];
    }

    private static IReadOnlyList<EvidenceItem> Security(TierCoverageFacts f)
    {
        var h = f.Hardening;
        var g = f.Gateway;
        var audit = $"cpctl audit-security {f.Tier}";
        var recent = h switch
        {
            { AuditedAt: null } => Item("hardening.audit", "Hardening audit recent", EvidenceState.Stale, "the tier has not been audited yet", audit),
            { AuditedAt: { } at, MaxAge.Ticks: > 0 } when f.Now - at > h.MaxAge => Item("hardening.audit", "Hardening audit recent", EvidenceState.Stale,
                $"last audit {Ago(f.Now, at)}, older than {Span(h.MaxAge)}", audit),
            { AuditedAt: { } at } => Item("hardening.audit", "Hardening audit recent", EvidenceState.Passing, $"audited {Ago(f.Now, at)}, score {h.Score:0.#}"),
        };
        var high = h switch
        {
            { AuditedAt: null } => Item("hardening.high", "No high-severity check failing", EvidenceState.Stale, "no audit to read", audit),
            { FailedHigh.Count: > 0 } => Item("hardening.high", "No high-severity check failing", EvidenceState.Failing,
                "failing: " + List(h.FailedHigh), audit + " --last"),
            _ => Item("hardening.high", "No high-severity check failing", EvidenceState.Passing, "no high-severity check fails"),
        };
        var auth = g.AuthRequired
            ? Item("security.auth", "Gateway requires tokens", EvidenceState.Configured, "every RPC needs a bearer token with a role")
            : Item("security.auth", "Gateway requires tokens", EvidenceState.Failing, "ControlPlane:Security:InsecureNoAuth is on: anyone reaching the port may command the fleet",
                "set ControlPlane:Security:InsecureNoAuth=false and restart the silo");
        var tls = g switch
        {
            { Tls: true } => Item("security.tls", "Gateway traffic encrypted", EvidenceState.Configured, "the gateway serves TLS"),
            { LoopbackOnly: true } => Item("security.tls", "Gateway traffic encrypted", EvidenceState.Configured, "plaintext, on loopback only: nothing leaves the host"),
            _ => Item("security.tls", "Gateway traffic encrypted", EvidenceState.Failing, "plaintext gRPC on a non-loopback address",
                "set ControlPlane:Tls:CertificateFile and KeyFile (docs/security.md#tls)"),
        };
        return [recent, high, auth, tls];
    }

    private static IReadOnlyList<EvidenceItem> Capacity() =>
    [
        Item("capacity.forecast", "Storage and connection growth forecast", EvidenceState.NotAvailable, "no capacity planning capability on this control plane yet"),
        Item("capacity.headroom", "Headroom alert before exhaustion", EvidenceState.NotAvailable, "no capacity planning capability on this control plane yet"),
    ];

    private static IReadOnlyList<EvidenceItem> IntegrationTesting() =>
    [
        Item("integration.synthetic", "Synthetic checks against the live tier", EvidenceState.NotAvailable, "no integration testing capability on this control plane yet"),
        Item("integration.docs", "Documented commands run in CI", EvidenceState.NotAvailable,
            "the documentation runner checks docs/ in the test suite, not this tier: no live evidence to read"),
    ];
}
