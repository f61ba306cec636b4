using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Backups;

/// <summary><c>cpctl drill run|list</c> and <c>cpctl archive TIER</c>: proof that backups restore, and the WAL archive's health.</summary>
internal static class DrillCommands
{
    public static Command Drill(GlobalOptions globals, CliIo io)
    {
        var command = new Command("drill", "Restore drills: restore a backup into a scratch instance, check it, record the RTO, remove it");
        command.Add(Run(globals, io));
        command.Add(List(globals, io));
        return command;
    }

    public static Command Archive(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose WAL archive to check");
        var command = new Command("archive", "The tier's WAL archive: RPO against its target, stored and primary LSN, the archiver; exit 1 when it falls short") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var status = await context.Client.Backups.GetArchiveStatusAsync(
                new GetArchiveStatusRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            var problems = RecoveryRendering.ArchiveProblems(status);
            await BackupOutput.ShowAsync(context, status, () => RecoveryRendering.Archive(status, problems)).ConfigureAwait(false);
            foreach (var problem in problems) await io.Error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
            return problems.Count == 0 ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static Command Run(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to drill");
        var backup = BackupArguments.BackupOption("Backup to drill (default: the newest restorable one)");
        var noWait = BackupArguments.NoWait();
        var command = new Command("run", "Run a restore drill now and follow it: exit 0 when it passed, 1 when it failed") { tier, backup, noWait };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var op = await context.Client.Backups.StartDrillAsync(
                new StartDrillRequest { Environment = context.Environment, Tier = name, BackupId = parsed.GetValue(backup) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            var outcome = await OperationFollower.FollowAsync(context, op, parsed.GetValue(noWait), ct).ConfigureAwait(false);
            if (!OperationProgress.Finished(outcome.Operation) || context.Json) return outcome.ExitCode;
            // The drill's record says which checks failed and the RTO measured; the operation only says it ended.
            var drills = await context.Client.Backups.ListDrillsAsync(
                new ListDrillsRequest { Environment = context.Environment, Tier = name },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (drills.Drills.FirstOrDefault(d => d.Id == outcome.Operation.Subject) is { } drill)
                await io.Out.WriteLineAsync(RecoveryRendering.DrillLine(drill)).ConfigureAwait(false);
            return outcome.ExitCode;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose drills to list");
        var limit = BackupArguments.Limit("drills");
        var command = new Command("list", "The tier's newest drills: backup, passed, RTO, failed checks") { tier, limit };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var response = await context.Client.Backups.ListDrillsAsync(
                new ListDrillsRequest { Environment = context.Environment, Tier = name, Limit = parsed.GetValue(limit) ?? 20 },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.ShowAsync(context, response, () => RecoveryRendering.Drills(name, response)).ConfigureAwait(false);
        });
        return command;
    }
}
