using ControlPlane.Grains.Coverage;
using ControlPlane.Silo.Board;
using Xunit;

namespace ControlPlane.Tests.Board;

public sealed class BoardCoverageTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 22, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Coverage_view_keeps_every_area_and_each_items_state_reason_and_fix_in_the_clis_words()
    {
        var areas = CoverageAreas.All.Select(a => new AreaCoverage(a, a == CoverageAreas.BackupRecovery
            ? [new EvidenceItem("backup.drill", "Last drill passed", EvidenceState.Failing, "drill d-1 failed", "cpctl backup drill oltp"),
               new EvidenceItem("backup.policy", "Backup policy set", EvidenceState.Configured, "daily", "")]
            : [new EvidenceItem(a.Id + ".x", "x", EvidenceState.NotAvailable, "no capability yet", "")])).ToList();
        var view = BoardCoverage.View(new CoverageReport("local", Now, [new TierCoverage("oltp", areas)]));

        Assert.True(view.Available);
        Assert.Equal(CoverageAreas.All.Count, view.Areas.Count);
        var backups = Assert.Single(view.Areas, a => a.Id == "backup_recovery");
        Assert.Equal((50.0, true, 1), (backups.Percent, backups.Available, backups.Failing));
        Assert.False(Assert.Single(view.Areas, a => a.Id == "capacity_planning").Available);
        var tier = Assert.Single(view.Tiers);
        var items = tier.Areas.Single(a => a.Id == "backup_recovery").Items;
        Assert.Equal(["failing", "configured"], items.Select(i => i.State));
        Assert.Equal("cpctl backup drill oltp", items[0].Fix);
        Assert.Equal("not available", BoardCoverage.State(EvidenceState.NotAvailable));
        Assert.Equal(view.Percent, new CoverageReport("local", Now, [new TierCoverage("oltp", areas)]).Percent);
    }
}
