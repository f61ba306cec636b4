using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Catalog;

/// <summary><c>cpctl catalog status|backup</c>: the control plane's own catalog as the answering silo sees it, and its backups.</summary>
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
        catalog.Add(Backup(globals, io));
        return catalog;
    }

    /// <summary>
    /// Starts a base backup of the embedded catalog and follows it in the status until it ends (exit 1 when it
    /// failed). Restores are offline, on the catalog's host: <c>ControlPlane.Silo catalog-restore</c> (docs/catalog.md).
    /// </summary>
    private static Command Backup(GlobalOptions globals, CliIo io)
    {
        var noWait = new Option<bool>("--no-wait") { Description = "Print the started backup and return at once" };
        var backup = new Command("backup", "Take a base backup of the embedded catalog now (on the silo that runs it) and wait for it to end") { noWait };
        CommandRunner.SetHandler(backup, globals, io, async (context, parsed, ct) =>
        {
            var catalog = context.Client.Catalog;
            var started = await catalog.BackupCatalogAsync(new BackupCatalogRequest(), deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            var done = started;
            while (!parsed.GetValue(noWait) && done.State == "running")
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
                var status = await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest(), deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
                done = status.Backups.LastOrDefault(b => b.Id == started.Id) ?? done;
            }
            if (context.Json) await JsonOutput.WriteAsync(io.Out, done).ConfigureAwait(false);
            else await io.Out.WriteLineAsync("catalog backup " + CatalogBackupRendering.One(done)).ConfigureAwait(false);
            return done.State == "failed" ? ExitCodes.Refused : ExitCodes.Ok;
        });
        return backup;
    }
}
