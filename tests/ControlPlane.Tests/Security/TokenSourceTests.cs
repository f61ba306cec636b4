using ControlPlane.Cli.Security;
using ControlPlane.Client.Security;
using Xunit;

namespace ControlPlane.Tests.Security;

public sealed class TokenSourceTests
{
    [Fact]
    public void The_flag_wins_then_the_file_then_the_environment_then_the_default_file()
    {
        var file = Path.GetTempFileName();
        var fallback = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "from-file\n");
            File.WriteAllText(fallback, "from-default\n");
            Assert.Equal("flag", ControlPlaneToken.Resolve("flag", file, "env", fallback)!.Token);
            Assert.Equal("from-file", ControlPlaneToken.Resolve(null, file, "env", fallback)!.Token);
            Assert.Equal("env", ControlPlaneToken.Resolve(null, null, "env", fallback)!.Token);
            Assert.Equal("from-default", ControlPlaneToken.Resolve(null, null, null, fallback)!.Token);
            Assert.Null(ControlPlaneToken.Resolve(null, null, null, fallback + ".missing"));
        }
        finally
        {
            File.Delete(file);
            File.Delete(fallback);
        }
    }

    [Fact]
    public void A_resolved_token_prints_its_source_not_its_value()
    {
        Assert.Equal("--token", new ResolvedToken("cpt_secret", "--token").ToString());
    }

    [Fact]
    public void A_missing_token_file_is_a_usage_error_without_the_token()
    {
        var ex = Assert.Throws<InvalidTokenSourceException>(() => ControlPlaneToken.Resolve(null, "/nonexistent/token", null, "x"));
        Assert.Contains("/nonexistent/token", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30d", 30 * 86400)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("90s", 90)]
    [InlineData("2w", 14 * 86400)]
    public void Durations_take_a_number_and_a_unit(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), SecurityArguments.ParseDuration(text));

    [Theory]
    [InlineData("")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("30")]
    [InlineData("1y")]
    [InlineData("1 d")]
    public void Bad_durations_are_refused(string text) => Assert.Null(SecurityArguments.ParseDuration(text));
}
