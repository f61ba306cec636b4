using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Coverage;

/// <summary>
/// <c>cpctl coverage [--tier T] [--all]</c>: the eleven operational areas, measured live; and
/// <c>cpctl runbook KIND TIER</c>: a runbook rendered from the tier's live state, printed as markdown.
/// </summary>
internal static class CoverageCommands
{
    public static Command Coverage(GlobalOptions globals, CliIo io)
    {
        var tier = new Option<string?>("--tier") { Description = "Only this tier", HelpName = "TIER" };
        tier.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value && Names.Check(value, "--tier") is { } error) r.AddError(error);
        });
        var all = new Option<bool>("--all") { Description = "List every evidence item, not only those that are stale, failing or not available" };
        var command = new Command("coverage",
            "Coverage of the eleven operational areas per tier, measured live: each evidence item configured, passing, stale, failing or not available, with the command that fixes it")
        {
            tier, all,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new CoverageService.CoverageServiceClient(context.Client.CallInvoker);
            var coverage = await client.GetCoverageAsync(
                new GetCoverageRequest { Environment = context.Environment, Tier = parsed.GetValue(tier) ?? "" },
                deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, coverage).ConfigureAwait(false);
            else await io.Out.WriteAsync(CoverageRendering.Coverage(coverage, parsed.GetValue(all))).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Runbook(GlobalOptions globals, CliIo io)
    {
        var kind = new Argument<string>("KIND") { Description = "failover, switchover, restore, pitr, rollback, leak, rejoin or erase" };
        kind.AcceptOnlyFromAmong("failover", "switchover", "restore", "pitr", "rollback", "leak", "rejoin", "erase");
        var tier = Fleet.FleetArguments.Tier("The tier the runbook is for");
        var command = new Command("runbook",
            "A runbook rendered from the tier's live state: real hosts, ports, replicas and settings, the cpctl and psql commands in order, the check after each step")
        {
            kind, tier,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new RunbookService.RunbookServiceClient(context.Client.CallInvoker);
            var runbook = await client.GetRunbookAsync(
                new GetRunbookRequest { Environment = context.Environment, Kind = parsed.GetRequiredValue(kind), Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, runbook).ConfigureAwait(false);
            else await io.Out.WriteAsync(runbook.Markdown).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>The one line cpctl's root command list carries for this capability.</summary>
internal static class CoverageCommandsRegistration
{
    public static void AddTo(Command root, GlobalOptions globals, CliIo io)
    {
        root.Add(CoverageCommands.Coverage(globals, io));
        root.Add(CoverageCommands.Runbook(globals, io));
    }
}
