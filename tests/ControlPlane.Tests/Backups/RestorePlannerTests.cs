using ControlPlane.Grains.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class RestorePlannerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    private static BackupRecord Backup(string id, int hour, ulong stop, BackupState state = BackupState.Succeeded) =>
        new(id, state, T0.AddHours(hour), T0.AddHours(hour).AddMinutes(10), 1, stop - 100, stop, true);

    private static readonly IReadOnlyList<BackupRecord> Catalog =
        [Backup("a", 1, 1000), Backup("b", 5, 5000), Backup("c", 9, 9000, BackupState.Failed), Backup("d", 12, 12000)];

    [Fact]
    public void Latest_starts_from_the_newest_restorable_backup() =>
        Assert.Equal("d", RestorePlanner.ChooseBase(Catalog, null, new RestoreTargetSpec(RestoreTargetKind.Latest), []).Base?.Id);

    [Fact]
    public void A_time_target_starts_from_the_newest_backup_that_ended_before_it() =>
        Assert.Equal("b", RestorePlanner.ChooseBase(Catalog, null, new RestoreTargetSpec(RestoreTargetKind.Time, Time: T0.AddHours(11)), []).Base?.Id);

    [Fact]
    public void A_failed_backup_is_never_a_base() =>
        Assert.Equal("b", RestorePlanner.ChooseBase(Catalog, null, new RestoreTargetSpec(RestoreTargetKind.Lsn, Lsn: 9500), []).Base?.Id);

    [Fact]
    public void A_restore_point_is_placed_by_its_lsn() =>
        Assert.Equal("a", RestorePlanner.ChooseBase(Catalog, null, new RestoreTargetSpec(RestoreTargetKind.RestorePoint, Name: "before-migration"),
            [new RestorePointRecord("before-migration", 1500, T0.AddHours(2), 1, "sre")]).Base?.Id);

    [Fact]
    public void A_target_before_every_backup_is_refused_with_the_oldest_backup_named()
    {
        var (chosen, error) = RestorePlanner.ChooseBase(Catalog, null, new RestoreTargetSpec(RestoreTargetKind.Time, Time: T0), []);
        Assert.Null(chosen);
        Assert.Contains("no restorable backup ended before the target", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_named_backup_that_ends_after_the_target_is_refused()
    {
        var (chosen, error) = RestorePlanner.ChooseBase(Catalog, "d", new RestoreTargetSpec(RestoreTargetKind.Lsn, Lsn: 6000), []);
        Assert.Null(chosen);
        Assert.Contains("backup d ends at lsn", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_backup_named_explicitly_is_refused() =>
        Assert.Equal("backup 'c' is failed and cannot be restored", RestorePlanner.ChooseBase(Catalog, "c", new RestoreTargetSpec(RestoreTargetKind.Latest), []).Error);

    [Fact]
    public void An_empty_catalog_says_to_take_a_backup_first() =>
        Assert.Contains("no restorable backup yet", RestorePlanner.ChooseBase([], null, new RestoreTargetSpec(RestoreTargetKind.Latest), []).Error, StringComparison.Ordinal);

    [Theory]
    [InlineData("oltp.b12", true, "oltp")]
    [InlineData("oltp.12", false, "")]
    [InlineData("oltp.b0", false, "")]
    [InlineData(".b3", false, "")]
    public void Backup_operation_ids_parse_to_their_tier(string id, bool valid, string tier)
    {
        Assert.Equal(valid, BackupOperation.TryParseId(id, out var parsed));
        Assert.Equal(tier, parsed);
    }
}
