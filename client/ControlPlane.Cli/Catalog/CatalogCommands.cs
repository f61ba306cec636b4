using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Catalog;

/// <summary><c>cpctl catalog status</c>: the control plane's own catalog as the answering silo sees it.</summary>
internal static class CatalogCommands
{
    public static Command Catalog(GlobalOptions globals, CliIo io)
    {
        var catalog = new Command("catalog", "The control plane's own catalog database");
        var status = new Command(
            "status",
            "Reachability (since when, last error), supervision of the embedded catalog (restarts, crash loop) and the token cache; exit code 0 even when unreachable");
        CommandRunner.SetHandler(status, globals, io, async (context, _, ct) =>
        {
            var response = await context.Client.Catalog.GetCatalogStatusAsync(
                new GetCatalogStatusRequest(), deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else await io.Out.WriteLineAsync(CatalogRendering.Status(response, DateTimeOffset.UtcNow)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        catalog.Add(status);
        return catalog;
    }
}
