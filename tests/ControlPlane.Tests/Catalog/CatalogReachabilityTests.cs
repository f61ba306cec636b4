using ControlPlane.Silo.Catalog;
using Xunit;

namespace ControlPlane.Tests.Catalog;

public sealed class CatalogReachabilityTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static CatalogStatus Up() => new(true, Start, "", null, 0, true, "embedded, 127.0.0.1:5433 database controlplane", 0, null, false, 0);

    [Fact]
    public void One_failed_check_is_not_yet_an_outage()
    {
        var s = CatalogReachability.Next(Up(), false, "timeout", Start.AddSeconds(1), unreachableAfter: 2);
        Assert.True(s.Reachable);
        Assert.Equal(Start, s.Since);
        Assert.Equal(1, s.ConsecutiveFailures);
        Assert.Equal("timeout", s.LastError);
    }

    [Fact]
    public void The_outage_starts_at_the_first_failed_check_of_the_run()
    {
        var s = CatalogReachability.Next(Up(), false, "timeout", Start.AddSeconds(1), 2);
        s = CatalogReachability.Next(s, false, "timeout", Start.AddSeconds(3), 2);
        Assert.False(s.Reachable);
        Assert.Equal(Start.AddSeconds(1), s.Since);
        s = CatalogReachability.Next(s, false, "refused", Start.AddSeconds(5), 2);
        Assert.Equal(Start.AddSeconds(1), s.Since);
        Assert.Equal("refused", s.LastError);
    }

    [Fact]
    public void One_successful_check_ends_the_outage_and_keeps_the_last_error()
    {
        var s = CatalogReachability.Next(Up(), false, "timeout", Start.AddSeconds(1), 1);
        Assert.False(s.Reachable);
        s = CatalogReachability.Next(s, true, "", Start.AddSeconds(9), 1);
        Assert.True(s.Reachable);
        Assert.Equal(Start.AddSeconds(9), s.Since);
        Assert.Equal(0, s.ConsecutiveFailures);
        Assert.Null(s.FailingSince);
        Assert.Equal("timeout", s.LastError);
    }

    [Fact]
    public void A_success_between_failures_restarts_the_count()
    {
        var s = CatalogReachability.Next(Up(), false, "x", Start.AddSeconds(1), 2);
        s = CatalogReachability.Next(s, true, "", Start.AddSeconds(2), 2);
        s = CatalogReachability.Next(s, false, "x", Start.AddSeconds(3), 2);
        Assert.True(s.Reachable);
        Assert.Equal(Start, s.Since);
    }

    [Theory]
    [InlineData("password authentication failed; Host=h;Password=hunter2;Port=5432", "hunter2")]
    [InlineData("PASSWORD = s3cret", "s3cret")]
    public void Errors_never_carry_a_password(string error, string secret)
    {
        var s = CatalogReachability.Next(Up(), false, error, Start.AddSeconds(1), 1);
        Assert.DoesNotContain(secret, s.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_command_names_when_the_outage_began()
    {
        var s = CatalogReachability.Next(Up(), false, "x", Start.AddSeconds(1), 1);
        Assert.Equal(
            "the catalog is unreachable since 2026-12-06 12:00:01Z: commands are refused until it returns; queries and watches still answer.",
            CatalogHealth.CommandsRefused(s));
    }
}
