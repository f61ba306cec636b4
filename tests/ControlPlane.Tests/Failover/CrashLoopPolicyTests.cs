using ControlPlane.Grains.Failover;
using CsCheck;
using Xunit;
using static ControlPlane.Tests.Failover.FailoverPolicyTests;

namespace ControlPlane.Tests.Failover;

/// <summary>Mode 3 of issue 21: N in-place crash restarts within M minutes fail the primary over.</summary>
public sealed class CrashLoopPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 0, 30, 0, TimeSpan.Zero);

    [Fact]
    public void The_defaults_are_three_crashes_in_five_minutes()
    {
        var settings = new FailoverSettings();
        Assert.Equal(3, settings.CrashLoopCount);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.CrashLoopWindow);
        Assert.Empty(settings.Validate());
    }

    [Fact]
    public void Three_crash_restarts_within_the_window_fail_an_answering_primary_over()
    {
        var decision = FailoverPolicy.Decide(View(Primary() with { RecentCrashes = 3 }, Standby("s1", 1000, streaming: true)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
        Assert.Contains(decision.Evidence, e => e.StartsWith("crash loop: primary p crashed and was restarted in place by PostgreSQL 3 times within 5 min", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_crash_restarts_are_left_to_postgresql()
    {
        var decision = FailoverPolicy.Decide(View(Primary() with { RecentCrashes = 2 }, Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.PrimaryHealthy, decision.Verdict);
    }

    [Fact]
    public void A_crash_loop_while_the_primary_is_down_again_fails_it_over_without_waiting_for_the_window()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 1, answering: false) with { RecentCrashes = 3 }, Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
    }

    [Fact]
    public void A_crash_count_of_zero_turns_the_rule_off()
    {
        var view = View(Primary() with { RecentCrashes = 50 }, Standby("s1", 1000)) with { Settings = new FailoverSettings { CrashLoopCount = 0 } };
        Assert.Equal(FailoverVerdict.PrimaryHealthy, FailoverPolicy.Decide(view).Verdict);
    }

    [Fact]
    public void A_paused_tier_only_alerts_on_a_crash_loop()
    {
        var view = View(Primary() with { RecentCrashes = 3 }, Standby("s1", 1000)) with { Paused = true };
        Assert.Equal(FailoverVerdict.Suspended, FailoverPolicy.Decide(view).Verdict);
    }

    [Fact]
    public void A_crash_looping_standby_is_not_promoted()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 3, answering: false),
            Standby("s1", 1000) with { RecentCrashes = 4 }, Standby("s2", 900)));
        Assert.Equal("s2", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.StartsWith("s1 not eligible: it is in a crash loop", StringComparison.Ordinal));
    }

    [Fact]
    public void Crashes_older_than_the_window_or_in_the_future_do_not_count()
    {
        var crashes = new[] { Now.AddMinutes(-10), Now.AddMinutes(-5).AddSeconds(-1), Now.AddMinutes(-4), Now.AddSeconds(-1), Now.AddSeconds(30) };
        Assert.Equal(2, CrashLoopPolicy.CountWithin(crashes, Now, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Settings_outside_their_range_are_refused_naming_the_setting()
    {
        var errors = new FailoverSettings { CrashLoopCount = -1, CrashLoopWindow = TimeSpan.FromSeconds(1) }.Validate();
        Assert.Contains(errors, e => e.StartsWith("crash_loop_count is -1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("crash_loop_window_seconds is 1;", StringComparison.Ordinal));
    }

    [Fact]
    public void A_primary_fails_over_for_a_crash_loop_exactly_when_the_window_holds_count_crashes() =>
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 1200].Array[0, 8], Gen.Bool)
            .Sample((count, ages, answering) =>
            {
                var settings = new FailoverSettings { CrashLoopCount = count };
                var recent = CrashLoopPolicy.CountWithin(ages.Select(a => Now.AddSeconds(-a)), Now, settings.CrashLoopWindow);
                Assert.Equal(ages.Count(a => a <= 300), recent);
                var primary = answering ? Primary() : Primary(failures: 1, answering: false);
                var view = View(primary with { RecentCrashes = recent }, Standby("s1", 1000, streaming: true)) with { Settings = settings };
                var looping = count > 0 && recent >= count;
                Assert.Equal(looping, FailoverPolicy.Decide(view).Evidence.Any(e => e.StartsWith("crash loop:", StringComparison.Ordinal)));
                if (answering) Assert.Equal(looping, FailoverPolicy.Decide(view).Verdict == FailoverVerdict.Promote);
            });
}
