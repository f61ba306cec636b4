using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Sla;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Sla;

public sealed class SlaLedgerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);
    private static readonly SlaOptions Options = new() { ProbeInterval = TimeSpan.FromSeconds(1), ProbeTimeout = TimeSpan.FromSeconds(2) };

    private static SlaObservation Up(double seconds, string primary = "oltp-1", long term = 1) => new(T0.AddSeconds(seconds), true, primary, term, "");
    private static SlaObservation Down(double seconds, string error = "oltp-1: connection refused") => new(T0.AddSeconds(seconds), false, "oltp-1", 1, error);

    private static SlaState Book(params SlaObservation[] observations)
    {
        var state = new SlaState();
        foreach (var o in observations) SlaLedger.Observe(state, o, Options);
        return state;
    }

    [Fact]
    public void Time_between_two_successful_writes_counts_as_writable()
    {
        var state = Book(Up(0), Up(1), Up(2), Up(3));
        Assert.Equal(3, state.Buckets.Sum(b => b.ObservedSeconds), 6);
        Assert.Equal(3, state.Buckets.Sum(b => b.WritableSeconds), 6);
        Assert.Empty(state.Outages);
    }

    [Fact]
    public void An_outage_lasts_from_the_last_good_write_to_the_next_good_one()
    {
        var state = Book(Up(0), Up(1), Down(2), Down(3), Down(4), Up(5, "oltp-2", 2), Up(6, "oltp-2", 2));
        var outage = Assert.Single(state.Outages);
        Assert.Equal(T0.AddSeconds(1), outage.Start);
        Assert.Equal(T0.AddSeconds(5), outage.End);
        Assert.Equal(("oltp-1", 1L, "oltp-2", 2L), (outage.PrimaryBefore, outage.TermBefore, outage.PrimaryAfter, outage.TermAfter));
        Assert.Equal("oltp-1: connection refused", outage.Reason);
        Assert.Equal(6, state.Buckets.Sum(b => b.ObservedSeconds), 6);
        Assert.Equal(2, state.Buckets.Sum(b => b.WritableSeconds), 6);
    }

    [Fact]
    public void A_gap_longer_than_the_limit_is_unobserved_and_marks_the_open_outage()
    {
        var state = Book(Up(0), Down(1), Up(60));
        Assert.Equal(1, state.Buckets.Sum(b => b.ObservedSeconds), 6);
        Assert.Equal(0, state.Buckets.Sum(b => b.WritableSeconds), 6);
        var outage = Assert.Single(state.Outages);
        Assert.True(outage.Interrupted);
        Assert.Equal(T0.AddSeconds(60), outage.End);
    }

    [Fact]
    public void Observations_out_of_order_are_ignored()
    {
        var state = Book(Up(0), Up(2), Up(1));
        Assert.Equal(2, state.Buckets.Sum(b => b.ObservedSeconds), 6);
        Assert.Equal(T0.AddSeconds(2), state.LastObservedAt);
    }

    [Fact]
    public void An_interval_crossing_a_bucket_boundary_is_split_between_the_buckets()
    {
        var options = new SlaOptions { BucketLength = TimeSpan.FromMinutes(1) };
        var state = new SlaState();
        SlaLedger.Observe(state, Up(59), options);
        SlaLedger.Observe(state, Up(61), options);
        Assert.Equal([1.0, 1.0], state.Buckets.Select(b => Math.Round(b.ObservedSeconds, 6)));
        Assert.Equal([T0, T0.AddMinutes(1)], state.Buckets.Select(b => b.Start));
    }

    [Fact]
    public void History_older_than_the_retention_is_dropped()
    {
        var options = new SlaOptions { BucketLength = TimeSpan.FromHours(1), Retention = TimeSpan.FromHours(2) };
        var state = new SlaState();
        for (var s = 0; s <= 4 * 3600; s += 2) SlaLedger.Observe(state, Up(s), options);
        Assert.True(state.Buckets.Count <= 3, $"{state.Buckets.Count} buckets kept");
        Assert.True(state.Buckets[0].Start >= T0.AddHours(2));
    }

    [Fact]
    public void Writable_time_never_exceeds_observed_time_nor_observed_the_time_between_first_and_last_probe()
    {
        Gen.Select(Gen.Int[1, 2500], Gen.Bool).Array[1, 200].Sample(steps =>
        {
            var state = new SlaState();
            var at = 0.0;
            foreach (var (ms, writable) in steps)
            {
                at += ms / 1000.0;
                SlaLedger.Observe(state, writable ? Up(at) : Down(at), Options);
            }
            var observed = state.Buckets.Sum(b => b.ObservedSeconds);
            var writableSeconds = state.Buckets.Sum(b => b.WritableSeconds);
            Assert.True(writableSeconds <= observed + 1e-9);
            Assert.True(observed <= at + 1e-9);
            Assert.True(state.Outages.Count(o => o.End is null) <= 1);
            Assert.Equal(!steps[^1].Item2, state.Outages.Count > 0 && state.Outages[^1].End is null);
        });
    }

    [Fact]
    public void The_report_counts_downtime_against_the_budget_and_names_each_failovers_write_outage()
    {
        var state = Book([.. Enumerable.Range(0, 100).Select(i => Up(i)), Down(100), Down(101), Up(103, "oltp-2", 2), Up(104, "oltp-2", 2)]);
        var failover = new DecisionRecord(1, T0.AddSeconds(101.5), DecisionKind.AutomaticFailover, 2, "oltp-1", "oltp-2", "primary dead", [], "controlplane",
            null, DecisionOutcome.Completed, [], T0.AddSeconds(102.5));
        var report = SlaReporter.Report("local", "oltp", state, TimeSpan.FromHours(1), [failover], Options, T0.AddSeconds(104));

        Assert.Equal(104, report.ObservedSeconds, 6);
        Assert.Equal(4, report.DowntimeSeconds, 6);
        Assert.Equal(100 * 100.0 / 104, report.AvailabilityPercent!.Value, 6);
        Assert.Equal((1 - 0.9995) * 104, report.BudgetSeconds, 6);
        Assert.True(report.BudgetRemainingRatio < 0);
        Assert.False(report.MeetsTarget);
        var f = Assert.Single(report.Failovers);
        Assert.Equal(TimeSpan.FromSeconds(4), f.WriteOutage);
    }

    [Fact]
    public void A_switchover_without_a_failed_write_has_no_write_outage()
    {
        var state = Book(Up(0), Up(1), Up(2));
        var switchover = new DecisionRecord(1, T0.AddSeconds(1), DecisionKind.Switchover, 2, "oltp-1", "oltp-2", "planned", [], "sre", null,
            DecisionOutcome.Completed, [], T0.AddSeconds(1.5));
        var report = SlaReporter.Report("local", "oltp", state, TimeSpan.FromHours(1), [switchover], Options, T0.AddSeconds(2));
        Assert.Null(Assert.Single(report.Failovers).WriteOutage);
        Assert.True(report.MeetsTarget);
        Assert.Equal(3600 - 2, report.UnobservedSeconds, 6);
    }

    [Theory]
    [InlineData("30d", 30 * 24 * 60)]
    [InlineData("24h", 24 * 60)]
    [InlineData("90m", 90)]
    [InlineData("", 30 * 24 * 60)]
    public void Periods_parse_from_a_number_and_a_unit(string text, int minutes)
    {
        var (period, error) = SlaReporter.ParsePeriod(text, new SlaOptions());
        Assert.Equal("", error);
        Assert.Equal(TimeSpan.FromMinutes(minutes), period);
    }

    [Theory]
    [InlineData("30", "not a number followed by")]
    [InlineData("-1d", "not a number followed by")]
    [InlineData("0h", "not a number followed by")]
    [InlineData("3w", "unit 'w'")]
    [InlineData("90d", "beyond the 35 days")]
    public void Bad_periods_are_refused_with_the_reason(string text, string reason)
    {
        var (period, error) = SlaReporter.ParsePeriod(text, new SlaOptions());
        Assert.Null(period);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Out_of_range_options_are_named()
    {
        var errors = new SlaOptions { ProbeInterval = TimeSpan.FromMinutes(5), TargetPercent = 100, MaxOutages = 0 }.Validate();
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("ProbeInterval"));
        Assert.Contains(errors, e => e.Contains("TargetPercent"));
        Assert.Contains(errors, e => e.Contains("MaxOutages"));
    }
}
