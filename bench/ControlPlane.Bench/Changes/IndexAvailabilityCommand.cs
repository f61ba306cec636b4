using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Changes;

/// <summary><c>index-availability</c>: writes during the change applier's CREATE INDEX CONCURRENTLY beside a plain CREATE INDEX.</summary>
public static class IndexAvailabilityCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scale = new Option<int>("--scale") { Description = "pgbench scale of the table indexed (100,000 rows, about 15 MB each)", DefaultValueFactory = _ => 20 };
        var writers = new Option<int>("--writers") { Description = "Independent writer sessions updating random rows throughout", DefaultValueFactory = _ => 4 };
        var workDir = new Option<string?>("--work-dir") { Description = "Where the benchmark's primary lives (default: the system temp directory)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        IntOption.Range(scale, 1, 1000);
        IntOption.Range(writers, 1, 64);
        var command = new Command("index-availability",
            "Write latency during the change applier's CREATE INDEX CONCURRENTLY beside a plain CREATE INDEX of the same column, measured by independent writers")
        {
            scale, writers, workDir, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var result = await IndexAvailabilityRun.RunAsync(parsed.GetValue(scale), parsed.GetValue(writers), parsed.GetValue(workDir), stderr, ct);
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }
}
