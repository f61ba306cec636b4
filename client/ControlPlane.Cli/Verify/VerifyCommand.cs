using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Verify;

/// <summary>
/// <c>cpctl verify TIER [--load-seconds N] [--clients N] [--load-driver DRIVER] [--no-switchover] [--junit FILE] [--last]</c>: the checks a
/// release needs against a live tier. Exit 0 when every step passed (or was skipped), 1 when one failed; the JUnit
/// file is written either way, for the pipeline's test report.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to verify");
        var load = new Option<int>("--load-seconds") { Description = "Seconds of write load (default 5, at most 300)", HelpName = "N" };
        var clients = new Option<int>("--clients") { Description = "Concurrent writers of the load (default 4, at most 64)", HelpName = "N" };
        var driver = new Option<string?>("--load-driver") { Description = "What drives the write load: auto (pgbench when installed, else built-in), pgbench, built-in", HelpName = "DRIVER" };
        var noSwitchover = new Option<bool>("--no-switchover") { Description = "Leave the switchover rehearsal out (production environments always do)" };
        var junit = new Option<string?>("--junit") { Description = "Write the result as JUnit XML to FILE", HelpName = "FILE" };
        var last = new Option<bool>("--last") { Description = "Show the last stored verification instead of running one" };
        var command = new Command("verify",
            "Release checks against a live tier: consistency, smoke queries, a write load with latency percentiles, a switchover rehearsal outside production; exit 1 when a step fails")
        {
            tier, load, clients, driver, noSwitchover, junit, last,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new VerifyService.VerifyServiceClient(context.Client.CallInvoker);
            VerifyReport report = parsed.GetValue(last)
                ? await client.GetVerifyReportAsync(new GetVerifyReportRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false)
                : await client.VerifyTierAsync(new VerifyTierRequest
                {
                    Environment = context.Environment,
                    Tier = parsed.GetRequiredValue(tier),
                    LoadSeconds = parsed.GetValue(load),
                    LoadClients = parsed.GetValue(clients),
                    SkipSwitchover = parsed.GetValue(noSwitchover),
                    LoadDriver = parsed.GetValue(driver) ?? "",
                }, deadline: DateTime.UtcNow.AddMinutes(40), cancellationToken: ct).ConfigureAwait(false);
            if (parsed.GetValue(junit) is { Length: > 0 } file) await File.WriteAllTextAsync(file, VerifyJUnit.Write(report), ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, report).ConfigureAwait(false);
            else await io.Out.WriteAsync(VerifyJUnit.Text(report)).ConfigureAwait(false);
            return report.Passed ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }
}
