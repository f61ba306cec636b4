using ControlPlane.Cli.Backups;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("2h", 7_200_000)]
    [InlineData("7d", 604_800_000)]
    [InlineData("0", 0)]
    public void Parse_reads_a_whole_number_and_one_unit(string text, long milliseconds)
    {
        Assert.Null(DurationText.TryParse(text, "--x", out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("s")]
    [InlineData("1h30m")]
    [InlineData("5 s")]
    [InlineData("5S")]
    public void Parse_refuses_anything_else_naming_the_option_and_value(string text) =>
        Assert.Equal($"--x '{text}' is not a duration; {DurationText.Expected}", DurationText.TryParse(text, "--x", out _));

    [Theory]
    [InlineData(604_800_000, "7d")]
    [InlineData(129_600_000, "36h")]
    [InlineData(5_400_000, "90m")]
    [InlineData(1_500, "1500ms")]
    [InlineData(0, "0")]
    public void Format_spells_the_largest_exact_unit(long milliseconds, string text) =>
        Assert.Equal(text, DurationText.Format(TimeSpan.FromMilliseconds(milliseconds)));
}
