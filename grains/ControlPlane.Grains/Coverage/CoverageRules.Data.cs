namespace ControlPlane.Grains.Coverage;

/// <summary>Rules of the areas about the data's shape and who reaches it: migrations, change management, parity, isolation.</summary>
public static partial class CoverageRules
{
    private static IReadOnlyList<EvidenceItem> Migrations(TierCoverageFacts f)
    {
        var c = f.Changes;
        var lint = Item("migrations.lint", "Zero-downtime lint gates every change", EvidenceState.Configured,
            "every change is linted and planned before it can be approved (CP001-CP092)");
        var drift = c switch
        {
            { Drifted.Count: > 0 } => Item("migrations.drift", "Targets' schema history matches the sets", EvidenceState.Failing,
                "drift blocks " + List(c.Drifted), $"cpctl change show {c.Drifted[0].Split(' ')[0]}"),
            { Changes: 0 } => Item("migrations.drift", "Targets' schema history matches the sets", EvidenceState.Stale,
                "no change has run on this tier: its targets' history is unchecked", $"cpctl change submit {f.Tier} DIR -m \"why\""),
            _ => Item("migrations.drift", "Targets' schema history matches the sets", EvidenceState.Passing, $"no drift over {c.Changes} change(s)"),
        };
        var applied = c.FailedTargets.Count > 0
            ? Item("migrations.applied", "No target failed to apply", EvidenceState.Failing, "failed: " + List(c.FailedTargets),
                $"cpctl change show {c.FailedTargets[0].Split(' ')[0]}; cpctl runbook rollback {f.Tier}")
            : c.Changes == 0
                ? Item("migrations.applied", "No target failed to apply", EvidenceState.Stale, "no change has run on this tier", $"cpctl change list {f.Tier}")
                : Item("migrations.applied", "No target failed to apply", EvidenceState.Passing, "every applied target succeeded");
        return [lint, drift, applied];
    }

    private static IReadOnlyList<EvidenceItem> ChangeManagement(TierCoverageFacts f, CoverageThresholds t)
    {
        var c = f.Changes;
        var approvals = Item("changes.approvals", "Changes need an approval by someone else", EvidenceState.Configured,
            $"{c.RequiredApprovals} approval(s) by an operator other than the author");
        var halted = c.Halted.Count > 0
            ? Item("changes.halted", "No change left halted", EvidenceState.Failing, "halted: " + List(c.Halted),
                $"cpctl change resume {c.Halted[0]} --wait   # or: cpctl runbook rollback {f.Tier}")
            : Item("changes.halted", "No change left halted", EvidenceState.Passing, "no halted change");
        var flow = c.LastCompletedAt switch
        {
            null => Item("changes.workflow", "Schema changes go through the workflow", EvidenceState.Stale,
                "no change has completed through submit, approve and rollout on this tier", $"cpctl change submit {f.Tier} DIR -m \"why\""),
            { } at when f.Now - at > t.ChangeMaxAge => Item("changes.workflow", "Schema changes go through the workflow", EvidenceState.Stale,
                $"the newest completed change is from {Ago(f.Now, at)}", $"cpctl change list {f.Tier}"),
            { } at => Item("changes.workflow", "Schema changes go through the workflow", EvidenceState.Passing, $"a change completed {Ago(f.Now, at)}"),
        };
        return [approvals, halted, flow];
    }

    private static IReadOnlyList<EvidenceItem> Parity(TierCoverageFacts f)
    {
        var versions = f.Parity.ServerVersions;
        var known = versions.Where(v => v.Value is not null).Select(v => v.Value!).Distinct(StringComparer.Ordinal).ToList();
        var same = known.Count switch
        {
            0 => Item("parity.versions", "Replicas run the same PostgreSQL version", EvidenceState.Stale, "no replica reported its version yet", $"cpctl tier {f.Tier}"),
            1 when versions.Values.All(v => v is not null) => Item("parity.versions", "Replicas run the same PostgreSQL version", EvidenceState.Passing,
                $"{versions.Count} replica(s) on {known[0]}"),
            1 => Item("parity.versions", "Replicas run the same PostgreSQL version", EvidenceState.Stale,
                "not every replica reported its version: " + List(versions.Where(v => v.Value is null).Select(v => v.Key).ToList()), $"cpctl tier {f.Tier}"),
            _ => Item("parity.versions", "Replicas run the same PostgreSQL version", EvidenceState.Failing,
                string.Join(", ", versions.Select(v => $"{v.Key} {v.Value ?? "?"}")), $"cpctl audit-security {f.Tier}"),
        };
        var drift = Item("parity.schema_drift", "Schema compared with the reference environment", EvidenceState.NotAvailable,
            "the parity library exists (docs/parity.md) but no service compares environments on a schedule yet");
        return [same, drift];
    }

    private static IReadOnlyList<EvidenceItem> Isolation(TierCoverageFacts f, CoverageThresholds t)
    {
        var tenants = f.Tenants.Tenants;
        EvidenceItem probe;
        if (tenants.Count == 0)
        {
            probe = Item("tenants.probe", "Cross-tenant probe of every tenant passed", EvidenceState.Configured, "no tenant is placed on this tier: nothing to isolate");
        }
        else if (tenants.Where(x => x.LeaksHere > 0).Select(x => x.Tenant).ToList() is { Count: > 0 } leaking)
        {
            probe = Item("tenants.probe", "Cross-tenant probe of every tenant passed", EvidenceState.Failing,
                "the probe reached another tenant's data as " + List(leaking), $"cpctl tenant show {leaking[0]}; cpctl tenant probe {leaking[0]}");
        }
        else if (tenants.Where(x => x.At is null || f.Now - x.At > t.ProbeMaxAge).Select(x => x.Tenant).ToList() is { Count: > 0 } unprobed)
        {
            probe = Item("tenants.probe", "Cross-tenant probe of every tenant passed", EvidenceState.Stale,
                $"not probed within {Span(t.ProbeMaxAge)}: " + List(unprobed), $"cpctl tenant probe {unprobed[0]}");
        }
        else
        {
            probe = Item("tenants.probe", "Cross-tenant probe of every tenant passed", EvidenceState.Passing,
                $"{tenants.Count} tenant(s) probed, no leak; oldest probe {Ago(f.Now, tenants.Min(x => x.At!.Value))}");
        }
        var scheduled = Item("tenants.probe_schedule", "Cross-tenant probe on a schedule", EvidenceState.NotAvailable,
            "the probe runs on demand only; scheduling it is not built (docs/tenants.md)");
        return [probe, scheduled];
    }
}
