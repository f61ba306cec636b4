using ControlPlane.Silo.Security;
using Xunit;

namespace ControlPlane.Tests.Security;

public sealed class BearerTokenTests
{
    [Fact]
    public void An_issued_token_parses_back_to_its_id_and_verifies_against_its_hash()
    {
        var issued = BearerToken.Issue();
        Assert.Equal(BearerToken.Length, issued.Token.Length);
        Assert.True(BearerToken.TryParse(issued.Token, out var id, out var secret));
        Assert.Equal(issued.Id, id);
        Assert.True(BearerToken.Verify(issued.Salt, issued.Hash, secret));
    }

    [Fact]
    public void A_changed_secret_does_not_verify()
    {
        var issued = BearerToken.Issue();
        BearerToken.TryParse(issued.Token, out _, out var secret);
        var changed = (secret[0] == 'A' ? 'B' : 'A') + secret[1..];
        Assert.False(BearerToken.Verify(issued.Salt, issued.Hash, changed));
    }

    [Fact]
    public void Two_tokens_never_share_id_salt_or_hash()
    {
        var a = BearerToken.Issue();
        var b = BearerToken.Issue();
        Assert.NotEqual(a.Id, b.Id);
        Assert.NotEqual(a.Salt, b.Salt);
        Assert.NotEqual(a.Hash, b.Hash);
    }

    [Fact]
    public void The_stored_hash_does_not_contain_the_secret()
    {
        var issued = BearerToken.Issue();
        BearerToken.TryParse(issued.Token, out _, out var secret);
        Assert.DoesNotContain(secret, Convert.ToBase64String(issued.Hash), StringComparison.Ordinal);
        Assert.Equal(32, issued.Hash.Length);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("cpt_")]
    [InlineData("cpt_0123456789ABCDEF_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("xyz_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("cpt_0123456789abcdef-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("cpt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("cpt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Anything_not_shaped_like_a_token_is_refused_before_any_lookup(string? text)
    {
        Assert.False(BearerToken.TryParse(text, out _, out _));
    }
}
