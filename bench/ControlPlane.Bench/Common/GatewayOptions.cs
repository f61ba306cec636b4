using System.CommandLine;
using ControlPlane.Client;
using ControlPlane.Client.Security;

namespace ControlPlane.Bench.Common;

/// <summary>The options of every scenario that drives a running silo's gateway, and their resolution.</summary>
public sealed class GatewayOptions
{
    public GatewayOptions(string whoseToken)
    {
        TokenFile = new Option<string?>("--token-file")
        {
            Description = $"File with the bearer token{whoseToken} (default ${ControlPlaneToken.EnvironmentVariable}, else {ControlPlaneToken.DefaultFile})",
            HelpName = "FILE",
        };
    }

    public Option<string?> Endpoint { get; } = new("--endpoint")
    {
        Description = $"gRPC endpoint (default ${ControlPlaneEndpoint.EnvironmentVariable}, else {ControlPlaneEndpoint.Default})",
        HelpName = "URL",
    };

    public Option<string> Environment { get; } = new("--environment") { Description = "Environment; empty means the silo's default", DefaultValueFactory = _ => "" };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the result as JSON instead of a table" };

    public Option<FileInfo?> Output { get; } = new("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };

    public Option<string?> TokenFile { get; }

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new Option[] { Endpoint, Environment, Json, Output, TokenFile }) command.Options.Add(option);
    }

    /// <summary>The endpoint and token, or null after writing what is wrong with them to <paramref name="stderr"/>.</summary>
    public async Task<(Uri Endpoint, string? Token)?> ResolveAsync(ParseResult parsed, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            return (ControlPlaneEndpoint.Resolve(parsed.GetValue(Endpoint)), ControlPlaneToken.Resolve(null, parsed.GetValue(TokenFile))?.Token);
        }
        catch (Exception ex) when (ex is InvalidEndpointException or InvalidTokenSourceException)
        {
            await stderr.WriteLineAsync($"error: {ex.Message}");
            return null;
        }
    }
}
