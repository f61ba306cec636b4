using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Sla;

/// <summary>
/// <c>cpctl sla TIER [--period 30d]</c>: the tier's measured availability, outages, failover RTOs, archive RPO and
/// error budget. Exit 1 when the availability is below the target, so a report can gate a pipeline.
/// </summary>
internal static class SlaCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to report on");
        var period = new Option<string>("--period")
        {
            Description = "How far back: a number and m, h or d (e.g. 30d, 7d, 24h, 90m); default 30d",
            HelpName = "PERIOD",
        };
        var command = new Command("sla",
            "Availability of a tier measured by a write on its primary every second: outages, failover RTOs, archive RPO, error budget; exit 1 below target")
        {
            tier, period,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new SlaService.SlaServiceClient(context.Client.CallInvoker);
            var report = await client.GetSlaAsync(
                new GetSlaRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Period = parsed.GetValue(period) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, report).ConfigureAwait(false);
            else await io.Out.WriteAsync(SlaRendering.Report(report, parsed.GetValue(period) ?? "30d")).ConfigureAwait(false);
            return report.MeetsTarget ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }
}
