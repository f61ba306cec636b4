using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Changes;

/// <summary><c>rollout</c>: a no-op version applied to many schemas by the change applier (parallel and sequential) and by a Flyway-style loop.</summary>
public static class RolloutCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var schemas = new Option<int>("--schemas") { Description = "Target schemas on the primary", DefaultValueFactory = _ => 1000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Targets at once for the parallel run", DefaultValueFactory = _ => 8 };
        var workDir = new Option<string?>("--work-dir") { Description = "Where the benchmark's primary lives (default: the system temp directory)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("rollout", "Per-target cost of applying a no-op version to many schemas: the change applier (parallel, sequential) beside a Flyway-style sequential loop")
        {
            schemas, concurrency, workDir, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            var result = await RolloutRun.RunAsync(parsed.GetValue(schemas), parsed.GetValue(concurrency), parsed.GetValue(workDir), stderr, ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }
}
