using ControlPlane.Grains.Failover;
using ControlPlane.Postgres.Health;
using CsCheck;
using Xunit;
using static ControlPlane.Tests.Failover.FailoverPolicyTests;

namespace ControlPlane.Tests.Failover;

/// <summary>Mode 2 of issue 21: a primary whose writes fail for a full disk, and standbys whose own disk is full.</summary>
public sealed class DiskFullPolicyTests
{
    private const long Plenty = 10L * 1024 * 1024 * 1024;
    private const string DiskFullError = "53100: could not extend file \"base/5/t3_16390\": No space left on device";

    private static ReplicaFacts FullPrimary(int diskFullFailures, long available = 4096) =>
        Primary() with { DiskFullFailures = diskFullFailures, DiskWriteError = DiskFullError, DiskAvailableBytes = available };

    [Fact]
    public void Writes_failing_with_disk_full_for_the_window_fail_the_answering_primary_over_to_a_standby_with_space()
    {
        var decision = FailoverPolicy.Decide(View(FullPrimary(3), Standby("s1", 1000) with { DiskAvailableBytes = Plenty }));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
        Assert.Equal("s1", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.Contains("failed 3 consecutive disk write checks with disk full (53100", StringComparison.Ordinal)
            && e.Contains("No space left on device", StringComparison.Ordinal));
        Assert.Contains(decision.Evidence, e => e.StartsWith("disk full: 4096 bytes available", StringComparison.Ordinal));
    }

    [Fact]
    public void Disk_full_failures_below_the_threshold_do_not_fail_the_primary_over()
    {
        var decision = FailoverPolicy.Decide(View(FullPrimary(2), Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.PrimaryHealthy, decision.Verdict);
    }

    [Fact]
    public void A_standby_still_streaming_from_a_primary_whose_disk_is_full_does_not_veto_the_failover()
    {
        var decision = FailoverPolicy.Decide(View(FullPrimary(3), Standby("s1", 1000, streaming: true)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
    }

    [Fact]
    public void The_failover_passes_over_a_standby_whose_own_disk_is_full()
    {
        var decision = FailoverPolicy.Decide(View(FullPrimary(3),
            Standby("s1", 1000) with { DiskAvailableBytes = 1024 * 1024 }, Standby("s2", 900) with { DiskAvailableBytes = Plenty }));
        Assert.Equal("s2", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.StartsWith("s1 not eligible: its disk is full: 1048576 bytes available", StringComparison.Ordinal));
    }

    [Fact]
    public void When_every_standby_is_as_full_the_tier_alerts_instead_of_moving_the_fault()
    {
        var decision = FailoverPolicy.Decide(View(FullPrimary(3), Standby("s1", 1000) with { DiskAvailableBytes = 0 }));
        Assert.Equal(FailoverVerdict.NoCandidate, decision.Verdict);
        Assert.True(decision.IsAlert);
    }

    [Fact]
    public void A_primary_that_died_on_a_full_disk_has_the_disk_named_in_the_evidence()
    {
        var primary = Primary(failures: 3, answering: false) with { DiskAvailableBytes = 0 };
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
        Assert.Contains(decision.Evidence, e => e.StartsWith("disk full: primary p has 0 bytes available", StringComparison.Ordinal));
    }

    private static readonly Gen<ReplicaFacts> StandbyGen =
        Gen.Select(Gen.Bool, Gen.ULong[0, 2_000], Gen.Long[0, 64L * 1024 * 1024], Gen.Int[0, 2], Gen.Bool,
            (answering, lsn, available, failures, known) =>
                Standby("s", lsn, answering) with { DiskAvailableBytes = known ? available : null, DiskFullFailures = failures });

    private static readonly Gen<FailoverView> ViewGen =
        Gen.Select(Gen.Int[0, 5], Gen.Long[0, 64L * 1024 * 1024], Gen.Int[1, 4], StandbyGen.List[1, 4], Gen.Bool,
            (failures, available, threshold, standbys, answering) => new FailoverView(
                new FailoverSettings { FailureThreshold = threshold }, false, 1, "p", 1000,
                [FullPrimary(failures, available) with { Reachable = answering, ConsecutiveFailures = answering ? 0 : failures },
                 .. standbys.Select((s, i) => s with { Name = $"s{i}" })]));

    [Fact]
    public void A_standby_whose_own_disk_is_full_is_never_elected_not_even_by_name_or_with_data_loss_allowed() =>
        ViewGen.Sample(view =>
        {
            var full = view.Replicas.Skip(1).Where(r => r.DiskFullFailures > 0 || r.DiskAvailableBytes < DiskSpace.FullBelowBytes).ToList();
            Assert.DoesNotContain(FailoverPolicy.Decide(view).Candidate, full.Select(r => r.Name));
            foreach (var r in full)
            {
                Assert.Null(FailoverPolicy.Elect(view, r.Name, allowDataLoss: true, ElectionPurpose.Failover).Candidate);
                Assert.Null(FailoverPolicy.Elect(view, r.Name, allowDataLoss: true, ElectionPurpose.Switchover).Candidate);
            }
        });

    [Fact]
    public void A_disk_full_write_failure_on_the_primary_is_failure_evidence_only_after_the_window() =>
        ViewGen.Sample(view =>
        {
            var primary = view.Replicas[0];
            var decision = FailoverPolicy.Decide(view);
            if (primary.Answering && primary.DiskFullFailures < view.Settings.FailureThreshold)
            {
                Assert.Equal(FailoverVerdict.PrimaryHealthy, decision.Verdict);
            }
            else if (primary.Answering)
            {
                Assert.Contains(decision.Evidence, e => e.Contains("consecutive disk write checks with disk full (53100", StringComparison.Ordinal));
                Assert.NotEqual(FailoverVerdict.PrimaryHealthy, decision.Verdict);
            }
        });
}
