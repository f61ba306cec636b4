using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Monitoring;

/// <summary><c>cpctl perf TIER [--replica R] [--top N]</c>: top statements, regressions, index advice with the SQL to act (never run), lock chains.</summary>
internal static class PerfCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to report on (its primary unless --replica)");
        var replica = new Option<string?>("--replica") { Description = "A replica of the tier instead of its primary" };
        var top = new Option<int>("--top") { Description = "How many statements to show (1 to 50)", DefaultValueFactory = _ => 10 };
        top.Validators.Add(r =>
        {
            if (Names.ParsedInt(r) is { } n and (< 1 or > 50)) r.AddError($"--top {n} is out of range; expected 1 to 50.");
        });
        var command = new Command("perf", "Top statements and regressions, index advice (with the SQL to act; never executed), lock chains, long transactions") { tier, replica, top };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var report = await context.Client.Monitoring.GetPerformanceAsync(
                new GetPerformanceRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Replica = parsed.GetValue(replica) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, report).ConfigureAwait(false);
            else await io.Out.WriteAsync(MonitoringRendering.Performance(report, parsed.GetValue(top))).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
