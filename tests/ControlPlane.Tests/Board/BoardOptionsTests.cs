using ControlPlane.Silo.Board;
using Xunit;

namespace ControlPlane.Tests.Board;

public sealed class BoardOptionsTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Board_port_outside_0_to_65535_is_refused_naming_the_key(int port) =>
        Assert.Equal([$"ControlPlane:Board:Port is {port}; expected 0 (any free port) to 65535."], new BoardOptions { Port = port }.Validate());

    [Fact]
    public void Board_url_is_known_once_bound_and_brackets_an_ipv6_address()
    {
        Assert.Null(new BoardEndpoint().Url);
        Assert.Equal("http://127.0.0.1:7402/board/", new BoardEndpoint { Port = 7402 }.Url!.ToString());
        Assert.Equal("https://[::1]:7402/board/", new BoardEndpoint { Port = 7402, Scheme = "https", Address = "::1" }.Url!.ToString());
    }
}
