using System.Globalization;

namespace ControlPlane.Grains.Coverage;

/// <summary>Rules of the areas that watch the fleet: performance monitoring, security hardening, capacity planning
/// and integration testing (the last two say "not available" when their facts were not gathered).</summary>
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

    private static IReadOnlyList<EvidenceItem> Capacity(TierCoverageFacts f, CoverageThresholds t)
    {
        const string Title = "Storage and connection growth forecast";
        var tier = f.Tier;
        if (f.Capacity is not { } c)
        {
            return
            [
                Item("capacity.forecast", Title, EvidenceState.NotAvailable, "no capacity planning on this control plane"),
                Item("capacity.headroom", "Headroom alert before exhaustion", EvidenceState.NotAvailable, "no capacity planning on this control plane"),
            ];
        }
        var forecast = c.SampledAt is not { } at
            ? Item("capacity.forecast", Title, EvidenceState.Stale, "never sampled", $"cpctl capacity {tier} --sample")
            : f.Now - at > t.SampleMaxAge
                ? Item("capacity.forecast", Title, EvidenceState.Stale, $"last sampled {Ago(f.Now, at)}", $"cpctl capacity {tier} --sample")
                : c.ForecastsWithLimit == 0
                    ? Item("capacity.forecast", Title, EvidenceState.Stale, "no resource has a limit to forecast against yet (history too short)", $"cpctl capacity {tier}")
                    : c.SoonestDays is { } days && days < c.HeadroomAlertDays
                        ? Item("capacity.forecast", Title, EvidenceState.Failing,
                            string.Create(CultureInfo.InvariantCulture, $"{c.SoonestResource} reaches its limit in {days:0.#} days"), $"cpctl capacity {tier} --resource {c.SoonestResource}")
                        : Item("capacity.forecast", Title, EvidenceState.Passing, string.Create(CultureInfo.InvariantCulture,
                            $"{c.ForecastsWithLimit} resource(s) forecast; soonest: {(c.SoonestDays is { } d ? $"{c.SoonestResource} in {d:0.#} days" : "none reaches its limit")}"));
        var headroom = c.HeadroomAlertEnabled
            ? Item("capacity.headroom", "Headroom alert before exhaustion", EvidenceState.Configured,
                string.Create(CultureInfo.InvariantCulture, $"CapacityForecastShort alerts below {c.HeadroomAlertDays:0.#} days"))
            : Item("capacity.headroom", "Headroom alert before exhaustion", EvidenceState.Failing, "rule CapacityForecastShort is disabled or missing",
                "cpctl alert rules; re-enable CapacityForecastShort (docs/capacity.md)");
        return [forecast, headroom];
    }

    private static IReadOnlyList<EvidenceItem> IntegrationTesting(TierCoverageFacts f, CoverageThresholds t)
    {
        var docs = Item("integration.docs", "Documented commands run in CI", EvidenceState.NotAvailable,
            "the documentation runner checks docs/ in the test suite, not this tier: no live evidence to read");
        if (f.Integration is not { } i)
        {
            return
            [
                Item("integration.consistency", "Replicas compared at one LSN", EvidenceState.NotAvailable, "no consistency checks on this control plane"),
                Item("integration.verify", "Release checks against the live tier", EvidenceState.NotAvailable, "no release checks on this control plane"),
                docs,
            ];
        }
        var tier = f.Tier;
        var consistency = Checked("integration.consistency", "Replicas compared at one LSN", i.ConsistencyAt, i.Consistent, i.ConsistencyDetail,
            t.ConsistencyMaxAge, f.Now, $"cpctl consistency {tier}");
        var verify = Checked("integration.verify", "Release checks against the live tier", i.VerifyAt, i.VerifyPassed, i.VerifyDetail,
            t.VerifyMaxAge, f.Now, $"cpctl verify {tier}");
        return [consistency, verify, docs];
    }

    /// <summary>A check that runs now and then: stale when never run or too old, failing when its last run failed.</summary>
    private static EvidenceItem Checked(string id, string title, DateTimeOffset? at, bool? passed, string detail, TimeSpan maxAge, DateTimeOffset now, string fix) =>
        at is not { } when
            ? Item(id, title, EvidenceState.Stale, "never run", fix)
            : passed == false
                ? Item(id, title, EvidenceState.Failing, $"failed {Ago(now, when)}: {detail}", fix)
                : now - when > maxAge
                    ? Item(id, title, EvidenceState.Stale, $"last run {Ago(now, when)}, older than {maxAge.TotalDays:0.#} days", fix)
                    : Item(id, title, EvidenceState.Passing, $"passed {Ago(now, when)}{(detail.Length > 0 ? ": " + detail : "")}");
}
