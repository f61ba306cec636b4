using ControlPlane.Client;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class ControlPlaneEndpointTests
{
    [Fact]
    public void The_flag_wins_over_the_environment_variable() =>
        Assert.Equal(new Uri("http://flag:1"), ControlPlaneEndpoint.Resolve("http://flag:1", "http://env:2"));

    [Fact]
    public void The_environment_variable_is_used_without_a_flag() =>
        Assert.Equal(new Uri("https://env:2"), ControlPlaneEndpoint.Resolve(null, "https://env:2"));

    [Fact]
    public void Without_flag_or_environment_the_embedded_silo_default_is_used()
    {
        Assert.Equal(new Uri("http://127.0.0.1:7400"), ControlPlaneEndpoint.Resolve(null, null));
        Assert.Equal(new Uri("http://127.0.0.1:7400"), ControlPlaneEndpoint.Resolve("  ", ""));
    }

    [Theory]
    [InlineData("127.0.0.1:7400")]
    [InlineData("ftp://host")]
    [InlineData("not a url")]
    [InlineData("/relative")]
    public void A_flag_that_is_not_an_absolute_http_url_is_rejected_naming_the_flag(string value)
    {
        var error = Assert.Throws<InvalidEndpointException>(() => ControlPlaneEndpoint.Resolve(value, null));
        Assert.Contains("--endpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_environment_value_is_rejected_naming_the_variable()
    {
        var error = Assert.Throws<InvalidEndpointException>(() => ControlPlaneEndpoint.Resolve(null, "tcp://x"));
        Assert.Contains(ControlPlaneEndpoint.EnvironmentVariable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Credentials_in_an_endpoint_are_never_shown()
    {
        Assert.Equal("https://host:7400", ControlPlaneEndpoint.Display(new Uri("https://user:secret@host:7400/")));
        var error = Assert.Throws<InvalidEndpointException>(() => ControlPlaneEndpoint.Resolve("ftp://user:secret@host", null));
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }
}
