using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class ReplicaAddressTests
{
    [Fact]
    public void Tier_slash_name_parses_into_its_parts()
    {
        Assert.True(ReplicaAddress.TryParse("oltp/oltp-1", out var address, out var error));
        Assert.Null(error);
        Assert.Equal(new ReplicaAddress("oltp", "oltp-1"), address);
    }

    [Theory]
    [InlineData("oltp")]
    [InlineData("oltp/a/b")]
    [InlineData("")]
    public void Replica_argument_without_exactly_one_slash_is_rejected_naming_the_argument_and_value(string value)
    {
        Assert.False(ReplicaAddress.TryParse(value, out _, out var error));
        Assert.Contains("TIER/NAME", error, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("OLTP/oltp-1", "tier part")]
    [InlineData("oltp/Oltp_1", "replica part")]
    [InlineData("/oltp-1", "tier part")]
    [InlineData("oltp/", "replica part")]
    public void Replica_argument_with_an_invalid_part_names_the_part(string value, string part)
    {
        Assert.False(ReplicaAddress.TryParse(value, out _, out var error));
        Assert.Contains(part, error, StringComparison.Ordinal);
        Assert.Contains(Names.Pattern, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("oltp", true)]
    [InlineData("a", true)]
    [InlineData("queue-2", true)]
    [InlineData("2oltp", false)]
    [InlineData("-oltp", false)]
    [InlineData("oltp_1", false)]
    [InlineData("oltp\n", false)]
    [InlineData("", false)]
    public void Names_start_with_a_lowercase_letter_and_hold_lowercase_letters_digits_and_dashes(string value, bool valid) =>
        Assert.Equal(valid, Names.IsValid(value));

    [Fact]
    public void Names_are_at_most_63_characters()
    {
        Assert.True(Names.IsValid("a" + new string('b', 62)));
        Assert.False(Names.IsValid("a" + new string('b', 63)));
    }
}
