using ControlPlane.Grains.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class BackupPolicyTests
{
    private static BackupPolicy Valid => new() { Repository = "/var/backups/cp" };

    [Fact]
    public void The_default_policy_with_a_repository_is_valid() => Assert.Empty(Valid.Validate());

    [Fact]
    public void A_policy_without_a_repository_is_refused_naming_the_field() =>
        Assert.Contains(new BackupPolicy().Validate(), e => e.StartsWith("repository is required", StringComparison.Ordinal));

    [Theory]
    [InlineData("relative/dir")]
    [InlineData("/tmp/\nnewline")]
    public void An_unusable_repository_path_is_refused_with_its_value(string path) =>
        Assert.Contains((Valid with { Repository = path }).Validate(), e => e.Contains($"repository '{path}'", StringComparison.Ordinal));

    [Fact]
    public void The_second_repository_must_be_another_directory() =>
        Assert.Contains((Valid with { SecondRepository = "/var/backups/cp/" }).Validate(), e => e.StartsWith("second_repository", StringComparison.Ordinal));

    [Fact]
    public void A_malformed_cron_names_the_field_and_value()
    {
        var errors = (Valid with { DrillSchedule = "every sunday" }).Validate();
        Assert.Contains(errors, e => e.StartsWith("drill_schedule 'every sunday'", StringComparison.Ordinal));
    }

    [Fact]
    public void Empty_schedules_mean_no_scheduled_runs_and_are_valid() =>
        Assert.Empty((Valid with { Schedule = "", DrillSchedule = "" }).Validate());

    [Fact]
    public void Retention_needs_at_least_one_rule() =>
        Assert.Contains((Valid with { KeepLast = 0, RecoveryWindow = TimeSpan.Zero }).Validate(), e => e.Contains("retention needs at least one rule", StringComparison.Ordinal));

    [Theory]
    [InlineData("brotli")]
    [InlineData("LZ4")]
    public void Unknown_compressions_are_refused(string compression) =>
        Assert.Contains((Valid with { Compression = compression }).Validate(), e => e.StartsWith($"compression '{compression}'", StringComparison.Ordinal));

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(2_000_000)]
    public void A_transfer_limit_out_of_range_is_refused(int kbps) =>
        Assert.Contains((Valid with { MaxRateKbps = kbps }).Validate(), e => e.StartsWith($"max_rate_kbps {kbps}", StringComparison.Ordinal));

    [Fact]
    public void Targets_must_be_positive()
    {
        var errors = (Valid with { RpoTarget = TimeSpan.Zero, RtoTarget = TimeSpan.FromSeconds(-1) }).Validate();
        Assert.Contains(errors, e => e.StartsWith("rpo_target", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("rto_target", StringComparison.Ordinal));
    }
}
