using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class FleetFormatTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(512, "512 B")]
    [InlineData(1023, "1023 B")]
    [InlineData(1024, "1.0 KiB")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(16L * 1024 * 1024, "16.0 MiB")]
    [InlineData(3L * 1024 * 1024 * 1024, "3.0 GiB")]
    [InlineData(-2048, "-2.0 KiB")]
    public void Bytes_are_shown_in_binary_units_with_one_decimal(long bytes, string expected) =>
        Assert.Equal(expected, FleetFormat.Bytes(bytes));

    [Theory]
    [InlineData(400, "0.4s ago")]
    [InlineData(9_990, "9.9s ago")]
    [InlineData(12_000, "12s ago")]
    [InlineData(192_000, "3m12s ago")]
    [InlineData(7_500_000, "2h05m ago")]
    [InlineData(273_600_000, "3d04h ago")]
    public void Probe_age_is_a_compact_duration_with_ago(long millisecondsAgo, string expected)
    {
        var at = Timestamp.FromDateTimeOffset(Now.AddMilliseconds(-millisecondsAgo));
        Assert.Equal(expected, FleetFormat.Age(at, Now));
    }

    [Fact]
    public void Probe_age_is_never_when_the_replica_was_never_probed()
    {
        Assert.Equal("never", FleetFormat.Age(null, Now));
        Assert.Equal("never", FleetFormat.Age(new Timestamp(), Now));
    }

    [Fact]
    public void Probe_age_in_the_future_from_clock_skew_reads_as_zero()
    {
        var at = Timestamp.FromDateTimeOffset(Now.AddSeconds(3));
        Assert.Equal("0.0s ago", FleetFormat.Age(at, Now));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(-1, "0s")]
    [InlineData(0.25, "0.2s")]
    [InlineData(75, "1m15s")]
    public void Lag_seconds_read_as_a_duration_and_zero_when_caught_up(double seconds, string expected) =>
        Assert.Equal(expected, FleetFormat.LagSeconds(seconds));

    [Fact]
    public void Connections_show_used_over_max_and_a_question_mark_when_max_is_unknown()
    {
        Assert.Equal("12/100", FleetFormat.Connections(12, 100));
        Assert.Equal("3/?", FleetFormat.Connections(3, 0));
    }

    [Theory]
    [InlineData(TierHealth.Healthy, "HEALTHY", "green")]
    [InlineData(TierHealth.Degraded, "DEGRADED", "yellow")]
    [InlineData(TierHealth.Down, "DOWN", "red")]
    [InlineData(TierHealth.Unspecified, "UNKNOWN", "grey")]
    public void Tier_health_has_a_name_and_a_colour(TierHealth health, string name, string colour)
    {
        Assert.Equal(name, FleetFormat.Health(health));
        Assert.Equal(colour, FleetFormat.HealthColour(health));
    }

    [Fact]
    public void Event_times_are_utc_to_the_millisecond()
    {
        var at = Timestamp.FromDateTimeOffset(new DateTimeOffset(2025, 6, 1, 14, 3, 4, 567, TimeSpan.FromHours(2)));
        Assert.Equal("2025-06-01T12:03:04.567Z", FleetFormat.Time(at));
    }
}
