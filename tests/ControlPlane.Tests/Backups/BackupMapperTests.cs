using ControlPlane.Grains.Backups;
using ControlPlane.Silo.Backups;
using Google.Protobuf.WellKnownTypes;
using Xunit;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Tests.Backups;

public sealed class BackupMapperTests
{
    private static readonly BackupPolicy Current = new() { Repository = "/r", KeepLast = 7, Schedule = "0 3 * * *" };

    [Fact]
    public void A_policy_patch_changes_only_the_fields_it_sets()
    {
        var merged = BackupMapper.Merge(Current, new Proto.BackupPolicy { KeepLast = 2, SecondRepository = "/dr" });
        Assert.Equal(Current with { KeepLast = 2, SecondRepository = "/dr" }, merged);
    }

    [Fact]
    public void An_empty_schedule_in_a_patch_turns_scheduled_backups_off() =>
        Assert.Equal("", BackupMapper.Merge(Current, new Proto.BackupPolicy { Schedule = "" }).Schedule);

    [Fact]
    public void A_negative_duration_is_refused_naming_the_field()
    {
        var ex = Assert.Throws<ArgumentException>(() => BackupMapper.Merge(Current, new Proto.BackupPolicy { RpoTarget = new Duration { Seconds = -5 } }));
        Assert.StartsWith("rpo_target -5s is out of range", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_target_means_latest() => Assert.Equal(RestoreTargetKind.Latest, BackupMapper.Target(null).Kind);

    [Fact]
    public void An_lsn_target_is_parsed() =>
        Assert.Equal(0x3000060UL, BackupMapper.Target(new Proto.RestoreTarget { Lsn = "0/3000060" }).Lsn);

    [Theory]
    [InlineData("3000060")]
    [InlineData("0/")]
    [InlineData("0/0")]
    public void A_malformed_lsn_target_is_refused_with_its_value(string lsn)
    {
        var ex = Assert.Throws<ArgumentException>(() => BackupMapper.Target(new Proto.RestoreTarget { Lsn = lsn }));
        Assert.Contains($"target.lsn '{lsn}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_target_time_in_the_future_is_refused() =>
        Assert.Throws<ArgumentException>(() => BackupMapper.Target(new Proto.RestoreTarget { Time = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)) }));

    [Theory]
    [InlineData("before-migration")]
    [InlineData("v2.1:pre")]
    public void Restore_point_names_of_safe_characters_are_accepted(string name) =>
        Assert.Equal(name, BackupMapper.RestorePointName("name", name));

    [Theory]
    [InlineData("")]
    [InlineData("x'; DROP")]
    [InlineData("with space")]
    public void Restore_point_names_that_could_break_recovery_settings_are_refused(string name) =>
        Assert.Throws<ArgumentException>(() => BackupMapper.RestorePointName("name", name));
}
