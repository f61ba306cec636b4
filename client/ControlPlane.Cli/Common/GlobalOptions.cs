using System.CommandLine;
using ControlPlane.Client;

namespace ControlPlane.Cli.Common;

/// <summary>Options every command accepts (recursive, so they may follow the command name).</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Endpoint { get; } = new("--endpoint")
    {
        Description = $"Control plane gRPC endpoint (http:// or https://). Default: ${ControlPlaneEndpoint.EnvironmentVariable}, else {ControlPlaneEndpoint.Default}",
        HelpName = "URL",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the response as protobuf JSON (one object per line for watch)",
        Recursive = true,
    };

    public Option<string?> Environment { get; } = new("--environment")
    {
        Description = "Environment (prod, staging, dev, local); empty means the silo's default",
        HelpName = "ENV",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Bearer token (visible in the process list: prefer --token-file or $CONTROLPLANE_TOKEN). Default: ./.controlplane/admin.token when present",
        HelpName = "TOKEN",
        Recursive = true,
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        Description = "File holding the bearer token (first line)",
        HelpName = "FILE",
        Recursive = true,
    };

    public GlobalOptions()
    {
        Environment.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (!string.IsNullOrEmpty(value) && Names.Check(value, "--environment") is { } error)
            {
                result.AddError(error);
            }
        });
    }

    public void AddTo(Command root)
    {
        root.Add(Endpoint);
        root.Add(Json);
        root.Add(Environment);
        root.Add(Token);
        root.Add(TokenFile);
    }
}
