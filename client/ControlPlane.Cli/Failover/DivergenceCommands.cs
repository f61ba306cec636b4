using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Failover;

/// <summary><c>cpctl divergences TIER [--replica NAME] [--transactions]</c>: what old primaries held that no standby received.</summary>
internal static class DivergenceCommands
{
    public static Command Divergences(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose saved divergent WAL to show");
        var replica = new Option<string?>("--replica") { Description = "Only this replica's reports" };
        replica.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && Names.Check(value, "--replica") is { } error) result.AddError(error);
        });
        var transactions = new Option<bool>("--transactions") { Description = "List every transaction of each report (xid, outcome, records, relations)" };
        var command = new Command("divergences",
            "WAL old primaries held past the new primary's fork, saved before they were rewound: range, where the files are, transactions")
        {
            tier, replica, transactions,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Failover.ListDivergencesAsync(
                new ListDivergencesRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Replica = parsed.GetValue(replica) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(FailoverRendering.Divergences(response, parsed.GetValue(transactions)));
            return ExitCodes.Ok;
        });
        return command;
    }
}
