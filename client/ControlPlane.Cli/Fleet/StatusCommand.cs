using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Fleet;

/// <summary><c>cpctl status</c>: the whole environment at a glance.</summary>
internal static class StatusCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var command = new Command(
            "status",
            "Every tier (health, primary, term, version) and its replicas (role, health, lag, connections, last probe, failures, problem)");

        CommandRunner.SetHandler(command, globals, io, async (context, _, ct) =>
        {
            var response = await context.Client.Fleet.ListTiersAsync(
                new ListTiersRequest { Environment = context.Environment },
                deadline: CommandContext.UnaryDeadline(),
                cancellationToken: ct).ConfigureAwait(false);

            if (context.Json)
            {
                await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            }
            else
            {
                // The alert comes first: it is what an SRE must see before reading the tiers.
                if (await CatalogAlertAsync(context, ct).ConfigureAwait(false) is { } alert)
                    await io.Out.WriteLineAsync(alert).ConfigureAwait(false);
                io.Console.Write(FleetRendering.Status(response, DateTimeOffset.UtcNow));
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The catalog alert line, if any. Best effort: a tenant-scoped token may not read the catalog's status, and an
    /// older silo has no such RPC; the tiers above are the answer either way.
    /// </summary>
    private static async Task<string?> CatalogAlertAsync(CommandContext context, CancellationToken ct)
    {
        try
        {
            var catalog = await context.Client.Catalog.GetCatalogStatusAsync(
                new GetCatalogStatusRequest(), deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return Catalog.CatalogRendering.Alert(catalog, DateTimeOffset.UtcNow);
        }
        catch (Grpc.Core.RpcException)
        {
            return null;
        }
    }
}
