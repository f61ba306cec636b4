using ControlPlane.Client;

namespace ControlPlane.Cli.Common;

/// <summary>What a command handler gets: a connected client, the global options and the output.</summary>
internal sealed record CommandContext(ControlPlaneClient Client, string Environment, bool Json, CliIo Io)
{
    /// <summary>Every unary call carries one, so a hung silo cannot hang a script.</summary>
    public static readonly TimeSpan UnaryTimeout = TimeSpan.FromSeconds(10);

    public Uri Endpoint => Client.Endpoint;

    public static DateTime UnaryDeadline() => DateTime.UtcNow + UnaryTimeout;
}
