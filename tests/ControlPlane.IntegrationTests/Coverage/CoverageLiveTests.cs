using ControlPlane.Protos.V1;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Coverage;

/// <summary>
/// Coverage of a real fleet follows what happens to it: after the first start, after a drill, after a drill that
/// fails on a backup damaged on disk (the area degrades and CoverageAreaDegraded fires), and after the fix (a new
/// backup that drills clean; the alert resolves).
/// </summary>
[Collection(OperabilityCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CoverageLiveTests(OperabilitySiloFixture fixture, ITestOutputHelper output)
{
    private const string Tier = OperabilitySiloFixture.TierName;
    private readonly CoverageService.CoverageServiceClient _coverage = new(fixture.Invoker);
    private readonly AlertService.AlertServiceClient _alerts = new(fixture.Invoker);

    private async Task<AreaCoverage> BackupAreaAsync()
    {
        var coverage = await _coverage.GetCoverageAsync(new GetCoverageRequest { Tier = Tier });
        var area = coverage.Tiers.Single().Areas.Single(a => a.Area == "backup_recovery");
        output.WriteLine($"backup_recovery {area.Percent} %: " + string.Join(" | ", area.Items.Select(i => $"{i.Id} {i.State} {i.Reason}")));
        return area;
    }

    private static EvidenceItem Drill(AreaCoverage area) => area.Items.Single(i => i.Id == "backup.drill");

    private async Task<Alert?> DegradedAlertAsync() =>
        (await _alerts.ListAlertsAsync(new ListAlertsRequest())).Alerts
            .FirstOrDefault(a => a.Rule == "CoverageAreaDegraded" && a.Labels["area"] == "backup_recovery" && a.Labels["tier"] == Tier && a.State == "firing");

    private async Task<Alert?> WaitForAlertAsync(bool firing)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            // Each evaluation reports its readings to the alert engine (one-way): ask again until the engine agrees.
            await BackupAreaAsync();
            var alert = await DegradedAlertAsync();
            if ((alert is not null) == firing || DateTime.UtcNow > deadline) return alert;
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task Coverage_of_the_local_fleet_reports_eleven_areas_and_checks_never_run_as_stale()
    {
        var coverage = await _coverage.GetCoverageAsync(new GetCoverageRequest());
        Assert.Equal("local", coverage.Environment);
        var tier = Assert.Single(coverage.Tiers);
        Assert.Equal(11, tier.Areas.Count);
        Assert.Equal(11, coverage.Areas.Count);
        var capacity = tier.Areas.Single(a => a.Area == "capacity_planning");
        Assert.True(capacity.Available);
        Assert.Equal(EvidenceState.Configured, capacity.Items.Single(i => i.Id == "capacity.headroom").State);
        var integration = tier.Areas.Single(a => a.Area == "integration_testing");
        Assert.True(integration.Available);
        // Nothing on this fixture runs cpctl verify: the evidence is missing, said as stale with the command.
        var verify = integration.Items.Single(i => i.Id == "integration.verify");
        Assert.Equal((EvidenceState.Stale, "cpctl verify oltp"), (verify.State, verify.Fix));
        Assert.Equal(EvidenceState.NotAvailable, integration.Items.Single(i => i.Id == "integration.docs").State);
        var ha = tier.Areas.Single(a => a.Area == "high_availability");
        Assert.Equal(EvidenceState.Passing, ha.Items.Single(i => i.Id == "ha.standbys").State);
        Assert.Equal(EvidenceState.Configured, ha.Items.Single(i => i.Id == "ha.policy").State);
        var security = tier.Areas.Single(a => a.Area == "security_hardening");
        Assert.Equal(EvidenceState.Configured, security.Items.Single(i => i.Id == "security.auth").State);
        Assert.InRange(coverage.Percent, 1, 99);
        Assert.All(tier.Areas.SelectMany(a => a.Items), i => Assert.NotEqual(EvidenceState.Unspecified, i.State));
    }

    [Fact]
    public async Task Coverage_follows_drills_degrades_on_a_failed_drill_with_an_alert_and_recovers_after_the_fix()
    {
        // First start (or whatever the shared fleet did before): nothing failing in backups, no alert.
        var start = await BackupAreaAsync();
        Assert.DoesNotContain(start.Items, i => i.State == EvidenceState.Failing);
        Assert.Equal(EvidenceState.Configured, start.Items.Single(i => i.Id == "backup.policy").State);

        // A backup and a drill that passes.
        var good = await fixture.Backups.TakeAsync();
        var drilled = await fixture.Backups.WaitAsync(await fixture.Backups.Client.StartDrillAsync(new StartDrillRequest { Tier = Tier, BackupId = good.Id }));
        Assert.Equal(BackupOperationState.Succeeded, drilled.State);
        var afterDrill = await BackupAreaAsync();
        Assert.Equal(EvidenceState.Passing, Drill(afterDrill).State);
        Assert.Equal(EvidenceState.Passing, afterDrill.Items.Single(i => i.Id == "backup.verified").State);
        Assert.True(afterDrill.Percent > start.Percent || start.Percent == 100, $"{afterDrill.Percent} after the drill, {start.Percent} before");
        Assert.Null(await WaitForAlertAsync(firing: false));

        // A backup damaged in the repository: its drill fails for real (the restore cannot read it).
        var damaged = await fixture.Backups.TakeAsync();
        var archive = Path.Combine(Repository(damaged.Id), "base.tar.lz4");
        await File.WriteAllBytesAsync(archive, "not an lz4 archive"u8.ToArray());
        var failed = await fixture.Backups.WaitAsync(await fixture.Backups.Client.StartDrillAsync(new StartDrillRequest { Tier = Tier, BackupId = damaged.Id }));
        Assert.Equal(BackupOperationState.Failed, failed.State);
        var degraded = await BackupAreaAsync();
        Assert.Equal(EvidenceState.Failing, Drill(degraded).State);
        Assert.Contains($"drill {failed.Subject} failed", Drill(degraded).Reason);
        Assert.Equal($"cpctl drill list {Tier}; cpctl drill run {Tier}", Drill(degraded).Fix);
        Assert.True(degraded.Percent < afterDrill.Percent);
        Assert.Equal(1, degraded.Failing);
        var alert = await WaitForAlertAsync(firing: true);
        Assert.NotNull(alert);
        Assert.Equal("warning", alert.Severity);

        // The fix: a fresh backup that drills clean. The area recovers and the alert resolves.
        var fresh = await fixture.Backups.TakeAsync();
        var redrilled = await fixture.Backups.WaitAsync(await fixture.Backups.Client.StartDrillAsync(new StartDrillRequest { Tier = Tier, BackupId = fresh.Id }));
        Assert.Equal(BackupOperationState.Succeeded, redrilled.State);
        var recovered = await BackupAreaAsync();
        Assert.Equal(EvidenceState.Passing, Drill(recovered).State);
        Assert.Equal(0, recovered.Failing);
        Assert.Null(await WaitForAlertAsync(firing: false));
        var history = await _alerts.GetAlertHistoryAsync(new GetAlertHistoryRequest());
        Assert.Contains(history.Events, e => e.Rule == "CoverageAreaDegraded" && e.Labels["area"] == "backup_recovery" && e.Phase == "resolved");
    }

    private string Repository(string backupId) => Path.Combine(fixture.Repository, "local", Tier, "base", backupId);
}
