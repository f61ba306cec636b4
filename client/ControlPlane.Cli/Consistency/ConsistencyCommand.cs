using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Consistency;

/// <summary>
/// <c>cpctl consistency TIER [--tables a,b] [--last]</c>: compares every standby of the tier with its primary at one
/// LSN. Exit 1 when a table differs, a standby could not take part, or a cross-tier pair disagrees.
/// </summary>
internal static class ConsistencyCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose standbys to compare with its primary");
        var tables = new Option<string?>("--tables") { Description = "Compare only these tables (comma-separated, schema.table or table)", HelpName = "a,b" };
        var last = new Option<bool>("--last") { Description = "Show the last stored report instead of checking now" };
        var command = new Command("consistency",
            "Compare each standby's rows with the primary's at one LSN (row counts and checksums per key range); exit 1 on any mismatch")
        {
            tier, tables, last,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new ConsistencyService.ConsistencyServiceClient(context.Client.CallInvoker);
            ConsistencyReport report;
            if (parsed.GetValue(last))
            {
                report = await client.GetConsistencyReportAsync(
                    new GetConsistencyReportRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            }
            else
            {
                var request = new CheckConsistencyRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) };
                request.Tables.AddRange(Split(parsed.GetValue(tables)));
                // A check reads every row of every replica: big tables take minutes.
                report = await client.CheckConsistencyAsync(request, deadline: DateTime.UtcNow.AddMinutes(30), cancellationToken: ct).ConfigureAwait(false);
            }
            if (context.Json) await JsonOutput.WriteAsync(io.Out, report).ConfigureAwait(false);
            else await io.Out.WriteAsync(ConsistencyRendering.Report(report)).ConfigureAwait(false);
            return report.Consistent ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    internal static IEnumerable<string> Split(string? list) =>
        string.IsNullOrWhiteSpace(list) ? [] : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
