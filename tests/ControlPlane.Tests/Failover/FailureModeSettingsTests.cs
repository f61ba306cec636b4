using ControlPlane.Grains.Failover;
using ControlPlane.Silo.Failover;
using Xunit;
using static ControlPlane.Tests.Cli.CpctlRun;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Tests.Failover;

/// <summary>The failure-mode settings of issue 21 (synchronous degrade delay, crash loop, disk full) as tier settings:
/// defaults, validation naming the field, what SetFailoverSettings keeps and changes, and cpctl ha's own checks.</summary>
public sealed class FailureModeSettingsTests
{
    [Fact]
    public void The_defaults_degrade_at_once_and_keep_the_documented_thresholds()
    {
        var settings = new FailoverSettings();
        Assert.Equal(TimeSpan.Zero, settings.SynchronousDegradeAfter);
        Assert.Equal(16L * 1024 * 1024, settings.DiskFullBelowBytes);
        Assert.Equal(64L * 1024 * 1024, settings.DiskWriteCheckBelowBytes);
        Assert.Equal((3, TimeSpan.FromMinutes(5)), (settings.CrashLoopCount, settings.CrashLoopWindow));
        Assert.Empty(settings.Validate());
    }

    [Theory]
    [InlineData(-1, 16L << 20, 64L << 20, "synchronous_degrade_after_ms is -1; expected 0 (at once) to 3600000 (1 h).")]
    [InlineData(3_600_001, 16L << 20, 64L << 20, "synchronous_degrade_after_ms is 3600001;")]
    [InlineData(0, 1L << 20, 64L << 20, "disk_full_below_bytes is 1048576; expected 16777216 (one WAL segment) to 1099511627776 bytes.")]
    [InlineData(0, 64L << 20, 32L << 20, "disk_write_check_below_bytes is 33554432; expected disk_full_below_bytes (67108864) to 1099511627776 bytes.")]
    public void Out_of_range_failure_mode_settings_are_refused_naming_the_field_the_value_and_the_range(int degradeMs, long full, long check, string expected)
    {
        var settings = new FailoverSettings
        {
            SynchronousDegradeAfter = TimeSpan.FromMilliseconds(degradeMs), DiskFullBelowBytes = full, DiskWriteCheckBelowBytes = check,
        };
        Assert.Contains(settings.Validate(), e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Set_failover_settings_keeps_what_the_request_leaves_unset_and_takes_an_explicit_zero_where_zero_means_something()
    {
        var current = new FailoverSettings
        {
            SynchronousDegradeAfter = TimeSpan.FromSeconds(7), CrashLoopCount = 5, CrashLoopWindow = TimeSpan.FromMinutes(2),
            DiskFullBelowBytes = 32L << 20, DiskWriteCheckBelowBytes = 128L << 20,
        };
        var kept = FailoverMapper.Merge(current, new Proto.FailoverSettings { AutoFailover = true });
        Assert.Equal((TimeSpan.FromSeconds(7), 5, TimeSpan.FromMinutes(2), 32L << 20, 128L << 20),
            (kept.SynchronousDegradeAfter, kept.CrashLoopCount, kept.CrashLoopWindow, kept.DiskFullBelowBytes, kept.DiskWriteCheckBelowBytes));

        var zeroed = FailoverMapper.Merge(current, new Proto.FailoverSettings { AutoFailover = true, SynchronousDegradeAfterMs = 0, CrashLoopCount = 0 });
        Assert.Equal((TimeSpan.Zero, 0), (zeroed.SynchronousDegradeAfter, zeroed.CrashLoopCount));
    }

    [Fact]
    public void The_settings_round_trip_through_the_wire_form()
    {
        var settings = new FailoverSettings
        {
            SynchronousMode = SynchronousMode.On, SynchronousDegradeAfter = TimeSpan.FromMilliseconds(2500), CrashLoopCount = 4,
            CrashLoopWindow = TimeSpan.FromSeconds(90), DiskFullBelowBytes = 20L << 20, DiskWriteCheckBelowBytes = 80L << 20,
        };
        var wire = FailoverMapper.ToProto("dev", "oltp", settings);
        Assert.Equal((2500, 4, 90, 20L << 20, 80L << 20),
            (wire.SynchronousDegradeAfterMs, wire.CrashLoopCount, wire.CrashLoopWindowSeconds, wire.DiskFullBelowBytes, wire.DiskWriteCheckBelowBytes));
        Assert.Equal(settings with { Priorities = settings.Priorities }, FailoverMapper.Merge(new FailoverSettings(), wire) with { Priorities = settings.Priorities });
    }

    [Fact]
    public void A_raised_disk_full_mark_keeps_a_standby_below_it_from_being_promoted()
    {
        var settings = new FailoverSettings { DiskFullBelowBytes = 64L << 20, DiskWriteCheckBelowBytes = 64L << 20 };
        var view = FailoverPolicyTests.View(FailoverPolicyTests.Primary(failures: 3, answering: false),
            FailoverPolicyTests.Standby("s1", 1000) with { DiskAvailableBytes = 32L << 20 },
            FailoverPolicyTests.Standby("s2", 900) with { DiskAvailableBytes = 1L << 30 }) with { Settings = settings };
        var decision = FailoverPolicy.Decide(view);
        Assert.Equal("s2", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.StartsWith("s1 not eligible: its disk is full: 33554432 bytes available, less than disk_full_below_bytes 67108864", StringComparison.Ordinal));
        // With the default mark the same standby has room and wins.
        Assert.Equal("s1", FailoverPolicy.Decide(view with { Settings = new FailoverSettings() }).Candidate);
    }

    [Fact]
    public void A_replica_reports_its_disk_full_by_the_mark_its_tier_configured() =>
        Assert.Equal((true, false, true),
            (Health(32L << 20, mark: 64L << 20).DiskFull, Health(32L << 20, mark: 16L << 20).DiskFull,
                // A report from a silo that predates the setting carries no mark: the default one applies.
                Health(1L << 20, mark: 0).DiskFull));

    private static ControlPlane.Grains.Health.ReplicaHealth Health(long available, long mark) =>
        new("oltp-2", DateTimeOffset.UnixEpoch, true, null, true, 1, null, null, null, null, "streaming", 1, 100, "15", 1, 0,
            DiskAvailableBytes: available, DiskFullBelowBytes: mark);

    [Theory]
    [InlineData("--crash-loop-window-seconds")]
    [InlineData("--disk-full-below-bytes")]
    [InlineData("--disk-write-check-below-bytes")]
    [InlineData("--not-streaming-heal-after-seconds")]
    public async Task Cpctl_ha_refuses_a_zero_that_the_wire_would_read_as_unchanged(string option)
    {
        var (code, _, error) = await RunAsync("ha", "oltp", option, "0", "--endpoint", "http://127.0.0.1:9");
        Assert.Equal(2, code);
        Assert.Contains($"{option} 0 is out of range; expected", error, StringComparison.Ordinal);
    }
}
