using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Migrations;

/// <summary><c>lint</c>: parse and lint throughput of the migration lint, optionally beside squawk on the same files.</summary>
public static class LintCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var files = new Option<int>("--files") { Description = "Migration files in the corpus", DefaultValueFactory = _ => 100 };
        var perFile = new Option<int>("--statements-per-file") { Description = "Statements per file", DefaultValueFactory = _ => 50 };
        var duration = DurationArgument.Option("--duration", TimeSpan.FromSeconds(10), "Measured time per in-process variant");
        var squawk = new Option<string?>("--squawk") { Description = "Path of a squawk binary to run on the same files (npm squawk-cli ships it as @squawk-cli/linux-x64)" };
        var cpctl = new Option<string?>("--cpctl") { Description = "Path of cpctl, to time 'cpctl change lint DIR' as a cold process on the same files" };
        var rounds = new Option<int>("--process-rounds") { Description = "Timed runs per external process (after one warm-up run)", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("lint", "Migration lint throughput (statements/s): parse, parse in parallel, load+parse+lint; and squawk on the same corpus")
        {
            files, perFile, duration, squawk, cpctl, rounds, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            var result = await LintRuns.RunAsync(parsed.GetValue(files), parsed.GetValue(perFile), parsed.GetValue(duration),
                parsed.GetValue(squawk), parsed.GetValue(cpctl), parsed.GetValue(rounds), ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }
}
