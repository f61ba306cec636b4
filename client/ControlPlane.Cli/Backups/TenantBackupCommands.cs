using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Cli.Pools;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// <c>cpctl tenant-backup export|import|list TIER TENANT</c>: one tenant's schema dumped from or restored into a tier.
/// A group of its own rather than under <c>cpctl tenant</c>: those commands are pool plans and take TENANT first,
/// these are backups and take TIER first like every other backup command.
/// </summary>
internal static class TenantBackupCommands
{
    public static Command TenantBackup(GlobalOptions globals, CliIo io)
    {
        var command = new Command("tenant-backup", "Per-tenant exports (pg_dump of the tenant's schema) and imports: export, import, list");
        command.Add(Export(globals, io));
        command.Add(Import(globals, io));
        command.Add(List(globals, io));
        return command;
    }

    private static Command Export(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier holding the tenant's schema");
        var tenant = PoolArguments.Name("TENANT", "The tenant to export (schema tenant_<name>)");
        var noWait = BackupArguments.NoWait();
        var command = new Command("export", "Dump the tenant's schema into the repository and follow it; prints the export id") { tier, tenant, noWait };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Backups.ExportTenantAsync(
                new ExportTenantRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Tenant = parsed.GetRequiredValue(tenant) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return (await OperationFollower.FollowAsync(context, op, parsed.GetValue(noWait), ct).ConfigureAwait(false)).ExitCode;
        });
        return command;
    }

    private static Command Import(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose primary receives the tenant's schema");
        var tenant = PoolArguments.Name("TENANT", "The tenant to import");
        var exportId = BackupArguments.ShortId("EXPORT_ID", 'e', "cpctl tenant-backup list");
        var replace = new Option<bool>("--replace") { Description = "Replace the tenant's existing schema (otherwise an existing schema is refused)" };
        var noWait = BackupArguments.NoWait();
        var command = new Command("import", "Restore an export into the tier's primary in one transaction, and follow it") { tier, tenant, exportId, replace, noWait };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Backups.ImportTenantAsync(new ImportTenantRequest
            {
                Environment = context.Environment,
                Tier = parsed.GetRequiredValue(tier),
                Tenant = parsed.GetRequiredValue(tenant),
                ExportId = parsed.GetRequiredValue(exportId),
                Replace = parsed.GetValue(replace),
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return (await OperationFollower.FollowAsync(context, op, parsed.GetValue(noWait), ct).ConfigureAwait(false)).ExitCode;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier the exports were taken on");
        var tenant = PoolArguments.Name("TENANT", "The tenant whose exports to list");
        var command = new Command("list", "The tenant's exports: id, time, size, tables and rows, file") { tier, tenant };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var (tierName, tenantName) = (parsed.GetRequiredValue(tier), parsed.GetRequiredValue(tenant));
            var response = await context.Client.Backups.ListTenantExportsAsync(
                new ListTenantExportsRequest { Environment = context.Environment, Tier = tierName, Tenant = tenantName },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.ShowAsync(context, response, () => RecoveryRendering.Exports(tierName, tenantName, response)).ConfigureAwait(false);
        });
        return command;
    }
}
