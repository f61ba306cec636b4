using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// <c>cpctl backup list|show|run|operation|policy|retention|decisions</c>: base backups of a tier and their policy
/// (docs/backups.md). Long jobs follow their operation until it finishes unless <c>--no-wait</c>.
/// </summary>
internal static class BackupCommands
{
    public static Command Backup(GlobalOptions globals, CliIo io)
    {
        var command = new Command("backup", "Base backups of a tier: list, show, take one, follow an operation, policy and retention");
        command.Add(List(globals, io));
        command.Add(Show(globals, io));
        command.Add(Run(globals, io));
        command.Add(Operation(globals, io));
        command.Add(BackupPolicyCommands.Policy(globals, io));
        command.Add(BackupPolicyCommands.Retention(globals, io));
        command.Add(BackupPolicyCommands.Decisions(globals, io));
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose backups to list");
        var all = new Option<bool>("--all") { Description = "Also list backups removed by retention" };
        var command = new Command("list", "The tier's base backups, oldest first: state, size, WAL range, verification, source") { tier, all };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var response = await context.Client.Backups.ListBackupsAsync(
                new ListBackupsRequest { Environment = context.Environment, Tier = name, IncludeDeleted = parsed.GetValue(all) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.ShowAsync(context, response, () => BackupRendering.List(name, response)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Show(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier the backup belongs to");
        var id = BackupArguments.BackupId();
        var command = new Command("show", "One backup: every field, table counts, drills, repositories, verification and error") { tier, id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var backup = await context.Client.Backups.GetBackupAsync(
                new GetBackupRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), BackupId = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.ShowAsync(context, backup, () => BackupRendering.Detail(backup)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Run(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to back up");
        var noWait = BackupArguments.NoWait();
        var command = new Command("run", "Take a base backup now and follow it: exit 0 when it succeeded, 1 when it failed") { tier, noWait };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Backups.StartBackupAsync(
                new StartBackupRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return (await OperationFollower.FollowAsync(context, op, parsed.GetValue(noWait), ct).ConfigureAwait(false)).ExitCode;
        });
        return command;
    }

    private static Command Operation(GlobalOptions globals, CliIo io)
    {
        var id = BackupArguments.OperationId();
        var watch = new Option<bool>("--watch") { Description = "Follow the operation until it finishes" };
        var command = new Command("operation", "One backup, restore, drill or tenant export/import operation: state, steps, progress") { id, watch };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Backups.GetBackupOperationAsync(
                new GetBackupOperationRequest { Environment = context.Environment, OperationId = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return (await OperationFollower.FollowAsync(context, op, noWait: !parsed.GetValue(watch), ct).ConfigureAwait(false)).ExitCode;
        });
        return command;
    }
}
