using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// <c>cpctl restore run|list|register|drop</c> and <c>cpctl restore-point TIER NAME</c>. Restoring is <c>restore run</c>, not
/// bare <c>restore TIER</c>: a tier may well be named "list", and a verb per action keeps the tree unambiguous.
/// </summary>
internal static class RestoreCommands
{
    public static Command Restore(GlobalOptions globals, CliIo io)
    {
        var command = new Command("restore", "Point-in-time restores of a tier into a new instance or standby: run, list, register, drop");
        command.Add(Run(globals, io));
        command.Add(List(globals, io));
        command.Add(Register(globals, io));
        command.Add(Drop(globals, io));
        return command;
    }

    public static Command RestorePoint(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose primary records the restore point");
        var name = BackupArguments.RestorePointName();
        var command = new Command("restore-point", "Create a named restore point on the primary, a target for 'cpctl restore run --restore-point'") { tier, name };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tierName = parsed.GetRequiredValue(tier);
            var point = await context.Client.Backups.CreateRestorePointAsync(
                new CreateRestorePointRequest { Environment = context.Environment, Tier = tierName, Name = parsed.GetRequiredValue(name) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.LineAsync(context, point, RecoveryRendering.RestorePointLine(tierName, point)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Run(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to restore");
        var backup = BackupArguments.BackupOption("Base backup to start from (default: the newest restorable one that ended before the target)");
        var target = new RestoreTargetOptions();
        var into = new Option<string>("--into") { Description = "A new promoted instance left running for inspection, or a new standby of the current primary", HelpName = "instance|standby", DefaultValueFactory = _ => "instance" };
        into.AcceptOnlyFromAmong("instance", "standby");
        var noWait = BackupArguments.NoWait();
        var command = new Command("run", "Restore a base backup plus archived WAL up to a target; prints where the restored instance listens") { tier, backup, into, noWait };
        target.AddTo(command);
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var op = await context.Client.Backups.RestoreAsync(new RestoreRequest
            {
                Environment = context.Environment,
                Tier = name,
                BackupId = parsed.GetValue(backup) ?? "",
                Target = target.Target(parsed),
                Into = parsed.GetValue(into) == "standby" ? RestoreInto.Standby : RestoreInto.Instance,
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            var outcome = await OperationFollower.FollowAsync(context, op, parsed.GetValue(noWait), ct).ConfigureAwait(false);
            if (outcome.ExitCode != ExitCodes.Ok || outcome.Operation.State != BackupOperationState.Succeeded) return outcome.ExitCode;
            return await PrintRestoredAsync(context, name, outcome.Operation.Subject, ct).ConfigureAwait(false);
        });
        return command;
    }

    // The operation names the restore; its endpoint and data directory live in the restore's record.
    private static async Task<int> PrintRestoredAsync(CommandContext context, string tier, string restoreId, CancellationToken ct)
    {
        var restores = await context.Client.Backups.ListRestoresAsync(
            new ListRestoresRequest { Environment = context.Environment, Tier = tier },
            deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
        if (restores.Restores.FirstOrDefault(r => r.Id == restoreId) is not { } restored)
        {
            await context.Io.Error.WriteLineAsync($"warning: restore '{restoreId}' is not in the tier's restore list; see: cpctl restore list {tier}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        return await BackupOutput.LineAsync(context, restored, RecoveryRendering.Restored(restored)).ConfigureAwait(false);
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose restores to list");
        var command = new Command("list", "The tier's restored instances: status, endpoint, target reached, data directory") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var response = await context.Client.Backups.ListRestoresAsync(
                new ListRestoresRequest { Environment = context.Environment, Tier = name },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.ShowAsync(context, response, () => RecoveryRendering.Restores(name, response)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Register(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier the restored standby joins");
        var id = BackupArguments.ShortId("RESTORE_ID", 'r', "cpctl restore list");
        var command = new Command("register", "Make a restored standby (restore run --into standby) a replica of its tier, named TIER-RESTORE_ID") { tier, id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var registered = await context.Client.Backups.RegisterRestoreAsync(
                new RegisterRestoreRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), RestoreId = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.LineAsync(context, registered, RecoveryRendering.Restored(registered)).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Drop(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier the restore belongs to");
        var id = BackupArguments.ShortId("RESTORE_ID", 'r', "cpctl restore list");
        var command = new Command("drop", "Stop a restored instance and remove its data directory (a registered one leaves its tier first)") { tier, id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var dropped = await context.Client.Backups.DropRestoreAsync(
                new DropRestoreRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), RestoreId = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.LineAsync(context, dropped, RecoveryRendering.Restored(dropped)).ConfigureAwait(false);
        });
        return command;
    }
}
