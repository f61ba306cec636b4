namespace ControlPlane.Grains.Coverage;

/// <summary>Rules of the areas that keep a tier running: high availability, backup and recovery, connection pooling.</summary>
public static partial class CoverageRules
{
    private static IReadOnlyList<EvidenceItem> Availability(TierCoverageFacts f, CoverageThresholds t)
    {
        var ha = f.Ha;
        var tier = f.Tier;
        var standbys = ha.Standbys == 0
            ? Item("ha.standbys", "Streaming standbys healthy", EvidenceState.Failing, "the tier has no standby: a failed primary cannot be replaced",
                $"cpctl restore run {tier} --into standby && cpctl restore register {tier} RESTORE_ID")
            : ha.HealthyStandbys == ha.Standbys
                ? Item("ha.standbys", "Streaming standbys healthy", EvidenceState.Passing, $"{ha.HealthyStandbys} of {ha.Standbys} standby(s) healthy")
                : Item("ha.standbys", "Streaming standbys healthy", EvidenceState.Failing, $"{ha.HealthyStandbys} of {ha.Standbys} standby(s) healthy",
                    $"cpctl tier {tier}; cpctl runbook rejoin {tier}");
        var policy = ha switch
        {
            { Paused: true } => Item("ha.policy", "Automatic failover on", EvidenceState.Failing, "the tier is paused: no automatic decision is taken", $"cpctl resume {tier}"),
            { AutoFailover: false } => Item("ha.policy", "Automatic failover on", EvidenceState.Failing, "auto_failover is off", $"cpctl ha {tier} --auto-failover true"),
            _ => Item("ha.policy", "Automatic failover on", EvidenceState.Configured, "auto_failover on, tier not paused"),
        };
        var fix = $"cpctl switchover {tier}";
        var rehearsal = ha.LastRehearsalAt switch
        {
            null => Item("ha.rehearsal", "Switchover or failover rehearsed", EvidenceState.Stale, "no switchover or failover has run on this tier", fix),
            { } at when ha.LastRehearsalSucceeded == false => Item("ha.rehearsal", "Switchover or failover rehearsed", EvidenceState.Failing,
                $"the last one failed {Ago(f.Now, at)}: {ha.LastRehearsalDetail}", $"cpctl history {tier}; {fix}"),
            { } at when f.Now - at > t.RehearsalMaxAge => Item("ha.rehearsal", "Switchover or failover rehearsed", EvidenceState.Stale,
                $"the last one succeeded {Ago(f.Now, at)}, more than {Span(t.RehearsalMaxAge)} ago", fix),
            { } at => Item("ha.rehearsal", "Switchover or failover rehearsed", EvidenceState.Passing, $"{ha.LastRehearsalDetail} succeeded {Ago(f.Now, at)}"),
        };
        return [standbys, policy, rehearsal];
    }

    private static IReadOnlyList<EvidenceItem> Backups(TierCoverageFacts f)
    {
        var b = f.Backups;
        var tier = f.Tier;
        var policy = b switch
        {
            { Schedule.Length: 0 } => Item("backup.policy", "Backups and drills scheduled, WAL archived", EvidenceState.Failing, "no backup schedule",
                $"cpctl backup policy {tier} --schedule \"0 3 * * *\""),
            { ArchiveWal: false } => Item("backup.policy", "Backups and drills scheduled, WAL archived", EvidenceState.Failing,
                "WAL is not archived: no point-in-time recovery", $"cpctl backup policy {tier} --archive-wal true"),
            { DrillSchedule.Length: 0 } => Item("backup.policy", "Backups and drills scheduled, WAL archived", EvidenceState.Failing, "no drill schedule",
                $"cpctl backup policy {tier} --drill-schedule \"0 5 * * 0\""),
            _ => Item("backup.policy", "Backups and drills scheduled, WAL archived", EvidenceState.Configured,
                $"backups '{b.Schedule}', drills '{b.DrillSchedule}' (UTC), WAL archived"),
        };
        var run = $"cpctl backup run {tier}";
        var verified = b switch
        {
            { LastAttemptError.Length: > 0 } => Item("backup.verified", "Verified backup within its schedule", EvidenceState.Failing,
                $"the last backup failed: {b.LastAttemptError}", $"cpctl backup list {tier}; {run}"),
            { NewestVerifiedAt: null } => Item("backup.verified", "Verified backup within its schedule", EvidenceState.Stale, "no verified backup yet", run),
            { NewestVerifiedAt: { } at } when f.Now - at > b.MaxBackupAge => Item("backup.verified", "Verified backup within its schedule", EvidenceState.Stale,
                $"newest verified backup {b.NewestVerifiedId} is from {Ago(f.Now, at)}, older than {Span(b.MaxBackupAge)}", run),
            { NewestVerifiedAt: { } at } => Item("backup.verified", "Verified backup within its schedule", EvidenceState.Passing,
                $"{b.NewestVerifiedId} verified, {Ago(f.Now, at)}"),
        };
        var drill = $"cpctl drill run {tier}";
        var drilled = b.LastDrill switch
        {
            null => Item("backup.drill", "Restore drill passed within RTO", EvidenceState.Stale, "no restore drill has run", drill),
            { Passed: false } d => Item("backup.drill", "Restore drill passed within RTO", EvidenceState.Failing,
                $"drill {d.Id} failed {Ago(f.Now, d.At)}: {d.Detail}", $"cpctl drill list {tier}; {drill}"),
            { Rto: { } rto } d when rto > b.RtoTarget => Item("backup.drill", "Restore drill passed within RTO", EvidenceState.Failing,
                $"drill {d.Id} took {rto.TotalSeconds:0.#}s, over the RTO target of {b.RtoTarget.TotalSeconds:0.#}s", $"cpctl backup policy {tier} --rto-target 10m; {drill}"),
            { } d when f.Now - d.At > b.MaxDrillAge => Item("backup.drill", "Restore drill passed within RTO", EvidenceState.Stale,
                $"newest drill {d.Id} is from {Ago(f.Now, d.At)}, older than {Span(b.MaxDrillAge)}", drill),
            { } d => Item("backup.drill", "Restore drill passed within RTO", EvidenceState.Passing,
                $"drill {d.Id} passed {Ago(f.Now, d.At)}" + (d.Rto is { } r ? $", RTO {r.TotalSeconds:0.#}s of {b.RtoTarget.TotalSeconds:0.#}s" : "")),
        };
        var rpo = b switch
        {
            { ArchiveWal: false } => Item("backup.rpo", "Archive RPO within target", EvidenceState.Failing, "WAL archiving is off", $"cpctl backup policy {tier} --archive-wal true"),
            { ArchiveMeasuredAt: null } => Item("backup.rpo", "Archive RPO within target", EvidenceState.Stale, "the archive's RPO has not been measured yet", $"cpctl archive {tier}"),
            { ArchiveStreaming: false } => Item("backup.rpo", "Archive RPO within target", EvidenceState.Failing,
                "the WAL archiver is not streaming" + (b.ArchiveError.Length > 0 ? ": " + b.ArchiveError : ""), $"cpctl archive {tier}"),
            _ when b.ArchiveRpo > b.RpoTarget => Item("backup.rpo", "Archive RPO within target", EvidenceState.Failing,
                $"RPO {b.ArchiveRpo.TotalSeconds:0.###}s is over the target of {b.RpoTarget.TotalSeconds:0.###}s", $"cpctl archive {tier}"),
            _ => Item("backup.rpo", "Archive RPO within target", EvidenceState.Passing,
                $"RPO {b.ArchiveRpo.TotalSeconds:0.###}s within {b.RpoTarget.TotalSeconds:0.###}s, archiver streaming"),
        };
        return [policy, verified, drilled, rpo];
    }

    private static IReadOnlyList<EvidenceItem> Pooling(TierCoverageFacts f, CoverageThresholds t)
    {
        var p = f.Pools;
        var tier = f.Tier;
        var sampled = p.SampledAt switch
        {
            null => Item("pools.sampled", "Pool usage sampled from the primary", EvidenceState.Stale, "the pool has not sampled the primary yet", $"cpctl pool {tier}"),
            { } at when f.Now - at > t.SampleMaxAge => Item("pools.sampled", "Pool usage sampled from the primary", EvidenceState.Stale,
                $"last sample {Ago(f.Now, at)}", $"cpctl tier {tier}; cpctl pool {tier}"),
            { } at => Item("pools.sampled", "Pool usage sampled from the primary", EvidenceState.Passing, $"sampled {Ago(f.Now, at)}"),
        };
        var budget = p.Granted > p.Capacity || p.Alerts.Count > 0
            ? Item("pools.budget", "Grants within the tier's capacity", EvidenceState.Failing,
                p.Alerts.Count > 0 ? List(p.Alerts) : $"{p.Granted} granted over a capacity of {p.Capacity}", $"cpctl pool {tier}")
            : Item("pools.budget", "Grants within the tier's capacity", EvidenceState.Passing, $"{p.Granted} of {p.Capacity} connections granted");
        var leaks = p.LeakSuspects > 0
            ? Item("pools.leaks", "No leaked connections", EvidenceState.Failing, $"{p.LeakSuspects} lease(s) suspected of leaking", $"cpctl runbook leak {tier}")
            : Item("pools.leaks", "No leaked connections", EvidenceState.Passing, "no leak suspect");
        var plans = p.TenantsWithoutPlan.Count > 0
            ? Item("pools.plans", "Every tenant of the tier has a plan", EvidenceState.Failing, "no plan: " + List(p.TenantsWithoutPlan),
                $"cpctl tenant plan {p.TenantsWithoutPlan[0]} {tier} --weight 1 --min 1 --max 10")
            : Item("pools.plans", "Every tenant of the tier has a plan", EvidenceState.Configured, "every tenant placed here has a plan");
        return [sampled, budget, leaks, plans];
    }
}
