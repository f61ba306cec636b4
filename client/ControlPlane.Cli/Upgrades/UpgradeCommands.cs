using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Upgrades;

/// <summary>
/// <c>cpctl upgrade rehearse|show|list|targets</c>: major-upgrade rehearsals on scratch instances restored from the
/// tier's newest verified backup (docs/upgrades.md). <c>rehearse</c> follows the rehearsal until it finishes unless
/// <c>--no-wait</c>: exit 0 when it succeeded, 1 when it failed or was interrupted.
/// </summary>
internal static class UpgradeCommands
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public static Command Upgrade(GlobalOptions globals, CliIo io)
    {
        var command = new Command("upgrade", "Major-upgrade rehearsals: restore the newest verified backup, upgrade a scratch copy, compare, report");
        command.Add(Rehearse(globals, io));
        command.Add(Show(globals, io));
        command.Add(List(globals, io));
        command.Add(Targets(globals, io));
        return command;
    }

    private static Command Rehearse(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose upgrade to rehearse");
        var to = new Option<int>("--to") { Description = "Target PostgreSQL major version, e.g. 17", Required = true, HelpName = "VERSION" };
        var method = new Option<string>("--method") { Description = "logical (zero-downtime path), dump (pg_dump/pg_restore) or pg_upgrade", DefaultValueFactory = _ => "logical", HelpName = "METHOD" };
        method.AcceptOnlyFromAmong("logical", "dump", "pg_upgrade");
        var noWait = new Option<bool>("--no-wait") { Description = "Print the started rehearsal and return without following it" };
        var command = new Command("rehearse", "Rehearse upgrading a tier to a newer major version on scratch instances; the live tier is not touched") { tier, to, method, noWait };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new UpgradeService.UpgradeServiceClient(context.Client.CallInvoker);
            var name = parsed.GetRequiredValue(tier);
            var rehearsal = await client.RehearseUpgradeAsync(new RehearseUpgradeRequest
            {
                Environment = context.Environment,
                Tier = name,
                TargetVersion = parsed.GetValue(to),
                Method = UpgradeRendering.Method(parsed.GetValue(method)!),
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (!parsed.GetValue(noWait))
            {
                var shown = 0;
                if (!context.Json) await io.Out.WriteLineAsync($"rehearsal {rehearsal.Id} of {name}: {UpgradeRendering.Method(rehearsal.Method)} {rehearsal.SourceVersion} -> {rehearsal.TargetVersion} from backup {rehearsal.BackupId}").ConfigureAwait(false);
                while (rehearsal.State == UpgradeRehearsalState.Running)
                {
                    await Task.Delay(Poll, ct).ConfigureAwait(false);
                    rehearsal = await client.GetUpgradeRehearsalAsync(new GetUpgradeRehearsalRequest { Environment = context.Environment, Tier = name, RehearsalId = rehearsal.Id },
                        deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
                    if (context.Json) continue;
                    foreach (var phase in rehearsal.Phases.Skip(shown)) await io.Out.WriteLineAsync(UpgradeRendering.Phase(phase)).ConfigureAwait(false);
                    shown = rehearsal.Phases.Count;
                }
            }
            if (context.Json) await JsonOutput.WriteAsync(io.Out, rehearsal).ConfigureAwait(false);
            else await io.Out.WriteAsync(UpgradeRendering.Detail(rehearsal, withPhases: parsed.GetValue(noWait))).ConfigureAwait(false);
            return rehearsal.State is UpgradeRehearsalState.Succeeded or UpgradeRehearsalState.Running ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static Command Show(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier of the rehearsal");
        var id = new Argument<string>("REHEARSAL") { Description = "Rehearsal id (u1, u2, ...)" };
        var command = new Command("show", "One rehearsal: phases with durations, issues, row counts before/after, smoke queries, cutover write gap") { tier, id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var rehearsal = await new UpgradeService.UpgradeServiceClient(context.Client.CallInvoker).GetUpgradeRehearsalAsync(
                new GetUpgradeRehearsalRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), RehearsalId = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, rehearsal).ConfigureAwait(false);
            else await io.Out.WriteAsync(UpgradeRendering.Detail(rehearsal, withPhases: true)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose rehearsals to list");
        var command = new Command("list", "The tier's upgrade rehearsals, newest last") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await new UpgradeService.UpgradeServiceClient(context.Client.CallInvoker).ListUpgradeRehearsalsAsync(
                new ListUpgradeRehearsalsRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else await io.Out.WriteAsync(UpgradeRendering.List(response)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Targets(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to upgrade");
        var command = new Command("targets", "The PostgreSQL installations newer than the tier and which upgrade methods each allows, and why not") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await new UpgradeService.UpgradeServiceClient(context.Client.CallInvoker).ListUpgradeTargetsAsync(
                new ListUpgradeTargetsRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else await io.Out.WriteAsync(UpgradeRendering.Targets(response)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
