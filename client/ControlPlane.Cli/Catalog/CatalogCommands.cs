using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Hardening;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Catalog;

/// <summary>
/// <c>cpctl catalog status|backup|audit-security</c>: the control plane's own catalog as the answering silo sees it,
/// its backups, and its hardening audit.
/// </summary>
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
        catalog.Add(AuditSecurity(globals, io));
        return catalog;
    }

    /// <summary>The catalog held to the fleet's hardening checks; exit 1 when a high-severity check fails, as for a tier.</summary>
    private static Command AuditSecurity(GlobalOptions globals, CliIo io)
    {
        var all = new Option<bool>("--all") { Description = "List every check, not only those that fail, are unknown or accepted" };
        var audit = new Command("audit-security",
            "CIS/STIG-style hardening audit of the catalog database itself (the checks of cpctl audit-security); exit 1 when a high-severity check fails") { all };
        CommandRunner.SetHandler(audit, globals, io, async (context, parsed, ct) =>
        {
            var client = new HardeningService.HardeningServiceClient(context.Client.CallInvoker);
            var result = await client.AuditCatalogSecurityAsync(new AuditCatalogSecurityRequest(),
                deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, result).ConfigureAwait(false);
            else await io.Out.WriteAsync(HardeningRendering.Audit(result, parsed.GetValue(all))).ConfigureAwait(false);
            return result.FailedHigh > 0 ? ExitCodes.Refused : ExitCodes.Ok;
        });
        return audit;
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
