using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Postgres;

public sealed class LsnTests
{
    [Theory]
    [InlineData("0/0", 0UL)]
    [InlineData("16/B374D848", 0x16_B374D848UL)]
    [InlineData("FFFFFFFF/FFFFFFFF", ulong.MaxValue)]
    public void Parse_reads_the_two_hexadecimal_halves(string text, ulong expected) =>
        Assert.Equal(expected, Lsn.Parse(text).Value);

    [Theory]
    [InlineData("0/0")]
    [InlineData("16/B374D848")]
    [InlineData("1/A")]
    public void ToString_round_trips_as_postgres_prints_it(string text) =>
        Assert.Equal(text, Lsn.Parse(text).ToString());

    [Theory]
    [InlineData("")]
    [InlineData("16")]
    [InlineData("/1")]
    [InlineData("1/")]
    [InlineData("G/1")]
    [InlineData("100000000/0")]
    public void TryParse_rejects_what_is_not_a_wal_location(string text) =>
        Assert.False(Lsn.TryParse(text, out _));

    [Fact]
    public void Parse_error_names_the_value_and_the_expected_form()
    {
        var e = Assert.Throws<FormatException>(() => Lsn.Parse("nope"));
        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BytesAhead_is_never_negative()
    {
        var low = Lsn.Parse("0/100");
        var high = Lsn.Parse("0/180");
        Assert.Equal(0x80, high.BytesAhead(low));
        Assert.Equal(0, low.BytesAhead(high));
        Assert.True(low < high);
    }
}
