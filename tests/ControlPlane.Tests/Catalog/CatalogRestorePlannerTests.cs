using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Silo.Catalog;
using Xunit;

namespace ControlPlane.Tests.Catalog;

public sealed class CatalogRestorePlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static CatalogBackupEntry Backup(string id, int hoursAgo) =>
        new(id, "/repo/base/" + id, 1, (ulong)(100 - hoursAgo) << 24, ((ulong)(100 - hoursAgo) << 24) + 256,
            Now.AddHours(-hoursAgo).AddSeconds(-5), Now.AddHours(-hoursAgo), 6 << 20);

    private static readonly IReadOnlyList<CatalogBackupEntry> Two = [Backup("old", 12), Backup("new", 6)];

    [Fact]
    public void Latest_starts_from_the_newest_backup()
    {
        Assert.Equal("new", CatalogRestorePlanner.Choose(Two, null, RecoveryTarget.Latest, Now).Backup?.Id);
    }

    [Fact]
    public void A_time_starts_from_the_newest_backup_complete_before_it()
    {
        var target = new RecoveryTarget(RecoveryTargetKind.Time, Time: Now.AddHours(-8));
        Assert.Equal("old", CatalogRestorePlanner.Choose(Two, null, target, Now).Backup?.Id);
        Assert.Equal("new", CatalogRestorePlanner.Choose(Two, null, target with { Time = Now.AddHours(-1) }, Now).Backup?.Id);
    }

    [Fact]
    public void A_time_before_the_oldest_backup_is_refused_naming_it()
    {
        var plan = CatalogRestorePlanner.Choose(Two, null, new RecoveryTarget(RecoveryTargetKind.Time, Time: Now.AddDays(-1)), Now);
        Assert.Null(plan.Backup);
        Assert.Contains("is before the oldest catalog backup (old, complete at 2026-12-06T00:00:00Z)", plan.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_time_in_the_future_is_refused()
    {
        var plan = CatalogRestorePlanner.Choose(Two, null, new RecoveryTarget(RecoveryTargetKind.Time, Time: Now.AddMinutes(1)), Now);
        Assert.Contains("is in the future", plan.Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_backup_id_is_refused_listing_the_ones_there_are()
    {
        var plan = CatalogRestorePlanner.Choose(Two, "nope", RecoveryTarget.Latest, Now);
        Assert.Equal("--backup 'nope' is not a complete backup in the catalog repository; expected one of: old, new.", plan.Refusal);
    }

    [Fact]
    public void A_named_backup_must_be_complete_before_the_target_time()
    {
        var plan = CatalogRestorePlanner.Choose(Two, "new", new RecoveryTarget(RecoveryTargetKind.Time, Time: Now.AddHours(-8)), Now);
        Assert.Contains("is before backup new was complete", plan.Refusal, StringComparison.Ordinal);
        Assert.Equal("old", CatalogRestorePlanner.Choose(Two, "old", RecoveryTarget.Latest, Now).Backup?.Id);
    }

    [Fact]
    public void An_empty_repository_has_nothing_to_restore()
    {
        Assert.Contains("holds no complete base backup", CatalogRestorePlanner.Choose([], null, RecoveryTarget.Latest, Now).Refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("latest", RecoveryTargetKind.Latest)]
    [InlineData("immediate", RecoveryTargetKind.Immediate)]
    [InlineData("2026-12-06T11:00:00Z", RecoveryTargetKind.Time)]
    public void Targets_parse(string text, RecoveryTargetKind kind)
    {
        Assert.Equal(kind, CatalogRestorePlanner.ParseTarget(text, out _)?.Kind);
    }

    [Fact]
    public void A_bad_target_names_the_argument_and_what_is_expected()
    {
        Assert.Null(CatalogRestorePlanner.ParseTarget("yesterday", out var error));
        Assert.Equal("--target 'yesterday' is not valid; expected latest, immediate or a time such as 2026-12-06T14:05:00Z.", error);
    }

    [Fact]
    public void A_restore_makes_the_restored_first_instance_primary_after_a_promotion_and_lowers_nothing()
    {
        var promoted = new CatalogManifest(5432, [new CatalogMember(CatalogStandby.Name, "127.0.0.1", 5433, "/s/data")], CatalogStandby.Name, Promotions: 3);
        var now = new DateTimeOffset(2026, 12, 7, 17, 0, 0, TimeSpan.Zero);
        var after = CatalogRestorePlanner.AfterRestore(promoted, now);
        Assert.Equal(CatalogInstance.PrimaryName, after.PrimaryName);
        Assert.Equal(3, after.Promotions);
        Assert.Equal(promoted.Standbys, after.Standbys);
        Assert.Equal(5432, after.Port);
        // The rebuilt standby has nothing yet: not promotable until it is synchronous and caught up.
        Assert.Equal(now, after.SynchronousDegradedSince);
        Assert.Contains("the standby is rebuilt", after.SynchronousDegradedReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_restore_keeps_an_earlier_degradation_and_leaves_a_catalog_without_standby_as_it_is()
    {
        var since = new DateTimeOffset(2026, 12, 7, 16, 0, 0, TimeSpan.Zero);
        var degraded = new CatalogManifest(5432, [new CatalogMember(CatalogStandby.Name, "127.0.0.1", 5433, "/s/data")], SynchronousDegradedSince: since);
        Assert.Equal(since, CatalogRestorePlanner.AfterRestore(degraded, since.AddHours(1)).SynchronousDegradedSince);
        var alone = new CatalogManifest(5432);
        Assert.Same(alone, CatalogRestorePlanner.AfterRestore(alone, since));
    }

    [Fact]
    public void A_restore_without_a_promotion_of_an_asynchronous_standby_leaves_the_manifest_as_it_is()
    {
        var manifest = new CatalogManifest(5432, [new CatalogMember(CatalogStandby.Name, "127.0.0.1", 5433, "/s/data")], Asynchronous: true);
        Assert.Same(manifest, CatalogRestorePlanner.AfterRestore(manifest, DateTimeOffset.UtcNow));
    }
}
