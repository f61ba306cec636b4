using ControlPlane.Grains.Coverage;
using Xunit;
using static ControlPlane.Tests.Coverage.CoverageFactsBuilder;

namespace ControlPlane.Tests.Coverage;

/// <summary>Fixed facts to states, area by area: each test changes one fact of a well-run tier.</summary>
public sealed class CoverageAreaRulesTests
{
    // High availability
    [Fact]
    public void Ha_fails_when_a_standby_is_unhealthy_and_names_the_rejoin_runbook()
    {
        var item = Item(Healthy() with { Ha = Healthy().Ha with { HealthyStandbys = 1 } }, "ha.standbys");
        Assert.Equal(EvidenceState.Failing, item.State);
        Assert.Equal("1 of 2 standby(s) healthy", item.Reason);
        Assert.Contains("cpctl runbook rejoin oltp", item.Fix);
    }

    [Fact]
    public void Ha_fails_without_any_standby()
    {
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Ha = Healthy().Ha with { Standbys = 0, HealthyStandbys = 0 } }, "ha.standbys").State);
    }

    [Fact]
    public void Ha_policy_fails_when_paused_or_automatic_failover_is_off()
    {
        Assert.Equal("cpctl resume oltp", Item(Healthy() with { Ha = Healthy().Ha with { Paused = true } }, "ha.policy").Fix);
        Assert.Equal("cpctl ha oltp --auto-failover true", Item(Healthy() with { Ha = Healthy().Ha with { AutoFailover = false } }, "ha.policy").Fix);
    }

    [Fact]
    public void Ha_rehearsal_is_stale_when_never_run_or_older_than_thirty_days_and_failing_when_the_last_failed()
    {
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Ha = Healthy().Ha with { LastRehearsalAt = null, LastRehearsalSucceeded = null } }, "ha.rehearsal").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Ha = Healthy().Ha with { LastRehearsalAt = Now.AddDays(-31) } }, "ha.rehearsal").State);
        var failed = Item(Healthy() with { Ha = Healthy().Ha with { LastRehearsalSucceeded = false } }, "ha.rehearsal");
        Assert.Equal(EvidenceState.Failing, failed.State);
        Assert.Equal("cpctl history oltp; cpctl switchover oltp", failed.Fix);
    }

    // Backup and recovery
    [Fact]
    public void Backup_policy_fails_without_a_schedule_archive_or_drill_schedule()
    {
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Backups = Healthy().Backups with { Schedule = "" } }, "backup.policy").State);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Backups = Healthy().Backups with { ArchiveWal = false } }, "backup.policy").State);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Backups = Healthy().Backups with { DrillSchedule = "" } }, "backup.policy").State);
        Assert.Equal(EvidenceState.Configured, Item(Healthy(), "backup.policy").State);
    }

    [Fact]
    public void Verified_backup_is_stale_past_its_schedule_and_failing_when_the_last_attempt_failed()
    {
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Backups = Healthy().Backups with { NewestVerifiedAt = Now.AddHours(-27) } }, "backup.verified").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Backups = Healthy().Backups with { NewestVerifiedAt = null } }, "backup.verified").State);
        var failed = Item(Healthy() with { Backups = Healthy().Backups with { LastAttemptError = "pg_basebackup: could not connect" } }, "backup.verified");
        Assert.Equal(EvidenceState.Failing, failed.State);
        Assert.Contains("could not connect", failed.Reason);
    }

    [Fact]
    public void Drill_fails_when_the_last_drill_failed_or_exceeded_the_rto_target()
    {
        var failed = Item(Healthy() with { Backups = Healthy().Backups with { LastDrill = new DrillFact("d4", Now.AddMinutes(-2), false, null, "counts: notes 3 != 4") } }, "backup.drill");
        Assert.Equal(EvidenceState.Failing, failed.State);
        Assert.Equal("drill d4 failed 2m ago: counts: notes 3 != 4", failed.Reason);
        Assert.Equal("cpctl drill list oltp; cpctl drill run oltp", failed.Fix);
        var slow = Item(Healthy() with { Backups = Healthy().Backups with { LastDrill = new DrillFact("d5", Now, true, TimeSpan.FromMinutes(6), "") } }, "backup.drill");
        Assert.Equal(EvidenceState.Failing, slow.State);
        Assert.Contains("over the RTO target", slow.Reason);
    }

    [Fact]
    public void Drill_is_stale_when_older_than_the_drill_schedule_allows()
    {
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Backups = Healthy().Backups with { LastDrill = new DrillFact("d1", Now.AddDays(-8), true, TimeSpan.FromSeconds(5), "") } }, "backup.drill").State);
    }

    [Fact]
    public void Rpo_fails_over_target_or_when_the_archiver_stops_streaming()
    {
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Backups = Healthy().Backups with { ArchiveRpo = TimeSpan.FromSeconds(30) } }, "backup.rpo").State);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Backups = Healthy().Backups with { ArchiveStreaming = false, ArchiveError = "connection refused" } }, "backup.rpo").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Backups = Healthy().Backups with { ArchiveMeasuredAt = null } }, "backup.rpo").State);
        Assert.Equal(EvidenceState.Passing, Item(Healthy(), "backup.rpo").State);
    }

    // Connection pooling
    [Fact]
    public void Pooling_fails_on_leak_suspects_overruns_and_tenants_without_a_plan()
    {
        Assert.Equal("cpctl runbook leak oltp", Item(Healthy() with { Pools = Healthy().Pools with { LeakSuspects = 2 } }, "pools.leaks").Fix);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Pools = Healthy().Pools with { Granted = 95 } }, "pools.budget").State);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Pools = Healthy().Pools with { Alerts = ["acme overran its grant"] } }, "pools.budget").State);
        var plan = Item(Healthy() with { Pools = Healthy().Pools with { TenantsWithoutPlan = ["hooli"] } }, "pools.plans");
        Assert.Equal(EvidenceState.Failing, plan.State);
        Assert.StartsWith("cpctl tenant plan hooli oltp", plan.Fix);
    }

    [Fact]
    public void Pool_sampling_is_stale_when_old_or_missing()
    {
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Pools = Healthy().Pools with { SampledAt = null } }, "pools.sampled").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Pools = Healthy().Pools with { SampledAt = Now.AddMinutes(-11) } }, "pools.sampled").State);
    }

    // Migrations and change management
    [Fact]
    public void Migrations_fail_on_drift_or_failed_targets_and_are_stale_without_any_change()
    {
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Changes = Healthy().Changes with { Drifted = ["c1 tenant_acme"] } }, "migrations.drift").State);
        Assert.Equal("cpctl change show c1", Item(Healthy() with { Changes = Healthy().Changes with { Drifted = ["c1 tenant_acme"] } }, "migrations.drift").Fix);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Changes = Healthy().Changes with { FailedTargets = ["c2 tenant_b"] } }, "migrations.applied").State);
        var none = Healthy() with { Changes = new ChangeFacts(1, 0, [], [], [], null) };
        Assert.Equal(EvidenceState.Stale, Item(none, "migrations.drift").State);
        Assert.Equal(EvidenceState.Configured, Item(none, "migrations.lint").State);
    }

    [Fact]
    public void Change_management_fails_on_a_halted_change_and_is_stale_without_a_recent_completed_one()
    {
        var halted = Item(Healthy() with { Changes = Healthy().Changes with { Halted = ["c3"] } }, "changes.halted");
        Assert.Equal(EvidenceState.Failing, halted.State);
        Assert.StartsWith("cpctl change resume c3 --wait", halted.Fix);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Changes = Healthy().Changes with { LastCompletedAt = Now.AddDays(-91) } }, "changes.workflow").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Changes = Healthy().Changes with { LastCompletedAt = null } }, "changes.workflow").State);
    }

    // Environment parity
    [Fact]
    public void Parity_fails_when_replicas_run_different_versions_and_the_schema_drift_check_is_not_available()
    {
        var mixed = Healthy() with { Parity = new ParityFacts(new Dictionary<string, string?> { ["oltp-1"] = "15.10", ["oltp-2"] = "15.8" }) };
        Assert.Equal(EvidenceState.Failing, Item(mixed, "parity.versions").State);
        Assert.Equal(EvidenceState.NotAvailable, Item(Healthy(), "parity.schema_drift").State);
        Assert.Equal(50, Area(Healthy(), CoverageAreas.EnvironmentParity).Percent);
    }

    // Tenant isolation
    [Fact]
    public void Isolation_fails_on_a_leak_and_is_stale_for_a_tenant_not_probed_within_a_week()
    {
        var leak = Item(Healthy() with { Tenants = new TenantFacts([new TenantProbeFact("acme", Now, 1), new TenantProbeFact("globex", Now, 0)]) }, "tenants.probe");
        Assert.Equal(EvidenceState.Failing, leak.State);
        Assert.Equal("cpctl tenant show acme; cpctl tenant probe acme", leak.Fix);
        var old = Item(Healthy() with { Tenants = new TenantFacts([new TenantProbeFact("acme", Now.AddDays(-8), 0), new TenantProbeFact("globex", null, 0)]) }, "tenants.probe");
        Assert.Equal(EvidenceState.Stale, old.State);
        Assert.Equal("cpctl tenant probe acme", old.Fix);
        Assert.Equal(EvidenceState.Configured, Item(Healthy() with { Tenants = new TenantFacts([]) }, "tenants.probe").State);
    }

    // Performance monitoring
    [Fact]
    public void Monitoring_is_stale_for_an_unsampled_replica_and_fails_on_a_critical_alert_or_no_rules()
    {
        var unsampled = Item(Healthy() with { Monitoring = Healthy().Monitoring with { SampledAt = new Dictionary<string, DateTimeOffset?> { ["oltp-1"] = Now, ["oltp-2"] = null } } }, "monitoring.sampling");
        Assert.Equal(EvidenceState.Stale, unsampled.State);
        Assert.Equal("cpctl perf oltp --replica oltp-2", unsampled.Fix);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Monitoring = Healthy().Monitoring with { FiringCritical = ["BackupTooOld{tier=\"oltp\"}"] } }, "monitoring.critical").State);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Monitoring = Healthy().Monitoring with { EnabledRules = 0 } }, "monitoring.rules").State);
    }

    // Security hardening
    [Fact]
    public void Security_fails_on_a_high_severity_finding_no_auth_or_plaintext_off_loopback()
    {
        var high = Item(Healthy() with { Hardening = Healthy().Hardening with { FailedHigh = ["oltp-1 CP-AUTH-01"] } }, "hardening.high");
        Assert.Equal(EvidenceState.Failing, high.State);
        Assert.Equal("cpctl audit-security oltp --last", high.Fix);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Gateway = new GatewayFacts(false, false, true) }, "security.auth").State);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Gateway = new GatewayFacts(true, false, false) }, "security.tls").State);
        Assert.Equal(EvidenceState.Configured, Item(Healthy() with { Gateway = new GatewayFacts(true, true, false) }, "security.tls").State);
    }

    [Fact]
    public void Hardening_audit_is_stale_past_twice_its_interval_and_never_stale_when_the_schedule_is_off()
    {
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Hardening = Healthy().Hardening with { AuditedAt = Now.AddHours(-3) } }, "hardening.audit").State);
        Assert.Equal(EvidenceState.Passing, Item(Healthy() with { Hardening = Healthy().Hardening with { AuditedAt = Now.AddDays(-30), MaxAge = TimeSpan.Zero } }, "hardening.audit").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Hardening = new HardeningFacts(null, 0, [], TimeSpan.FromHours(2)) }, "hardening.audit").State);
    }

    // Capacity planning
    [Fact]
    public void Capacity_forecast_passes_with_fresh_samples_and_fails_when_a_limit_is_under_the_alert_horizon()
    {
        Assert.Equal(EvidenceState.Passing, Item(Healthy(), "capacity.forecast").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Capacity = Healthy().Capacity! with { SampledAt = null } }, "capacity.forecast").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Capacity = Healthy().Capacity! with { SampledAt = Now.AddHours(-1) } }, "capacity.forecast").State);
        Assert.Equal(EvidenceState.Stale, Item(Healthy() with { Capacity = Healthy().Capacity! with { ForecastsWithLimit = 0 } }, "capacity.forecast").State);
        var soon = Item(Healthy() with { Capacity = Healthy().Capacity! with { SoonestDays = 6 } }, "capacity.forecast");
        Assert.Equal(EvidenceState.Failing, soon.State);
        Assert.Equal("database_bytes reaches its limit in 6 days", soon.Reason);
        Assert.Equal("cpctl capacity oltp --resource database_bytes", soon.Fix);
    }

    [Fact]
    public void Capacity_headroom_fails_when_the_forecast_alert_is_off()
    {
        Assert.Equal(EvidenceState.Configured, Item(Healthy(), "capacity.headroom").State);
        Assert.Equal(EvidenceState.Failing, Item(Healthy() with { Capacity = Healthy().Capacity! with { HeadroomAlertEnabled = false } }, "capacity.headroom").State);
    }

    // Integration testing
    [Fact]
    public void Integration_checks_are_stale_when_never_run_or_old_and_failing_when_the_last_failed()
    {
        Assert.Equal(EvidenceState.Passing, Item(Healthy(), "integration.consistency").State);
        Assert.Equal(EvidenceState.Passing, Item(Healthy(), "integration.verify").State);
        var never = Healthy() with { Integration = new IntegrationFacts(null, null, "", null, null, "") };
        Assert.Equal(("never run", "cpctl consistency oltp"), (Item(never, "integration.consistency").Reason, Item(never, "integration.consistency").Fix));
        Assert.Equal(EvidenceState.Stale, Item(never, "integration.verify").State);
        var old = Healthy() with { Integration = Healthy().Integration! with { ConsistencyAt = Now.AddDays(-3), VerifyAt = Now.AddDays(-31) } };
        Assert.Equal(EvidenceState.Stale, Item(old, "integration.consistency").State);
        Assert.Equal(EvidenceState.Stale, Item(old, "integration.verify").State);
        var failed = Healthy() with { Integration = Healthy().Integration! with { Consistent = false, ConsistencyDetail = "public.orders", VerifyPassed = false, VerifyDetail = "smoke: SELECT 1 failed" } };
        Assert.Equal(EvidenceState.Failing, Item(failed, "integration.consistency").State);
        Assert.Contains("public.orders", Item(failed, "integration.consistency").Reason);
        Assert.Equal("cpctl verify oltp", Item(failed, "integration.verify").Fix);
        Assert.Equal(EvidenceState.NotAvailable, Item(Healthy(), "integration.docs").State);
    }
}
