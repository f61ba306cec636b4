using System.CommandLine;
using ControlPlane.Bench.Backups;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Monitoring;

/// <summary>
/// <c>alert-evaluation</c>: how long after a reading crosses a threshold its alert fires (a real primary, the replica
/// sampler's code on the cheap family's interval, the alert policy over the default rules), and what one evaluation
/// costs per rule set and batch of readings (docs/monitoring.md).
/// </summary>
public static class AlertEvaluationCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var trials = new Option<int>("--trials") { Description = "Threshold crossings measured end to end", DefaultValueFactory = _ => 20 };
        var interval = DurationArgument.Option("--interval", TimeSpan.FromSeconds(5), "Sampling interval of the cheap family (the silo's default)");
        var evaluations = new Option<int>("--evaluations") { Description = "Evaluations timed per rule set and batch size", DefaultValueFactory = _ => 2000 };
        var workDir = new Option<string?>("--work-dir") { Description = "Parent of the benchmark's scratch directory (default: the system temp directory)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("alert-evaluation", "Alert latency from a threshold crossing to firing on a real primary, and evaluation cost per rule set")
        {
            trials, interval, evaluations, workDir, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var (t, e) = (parsed.GetValue(trials), parsed.GetValue(evaluations));
            var every = parsed.GetValue(interval);
            if (t < 1 || e < 10 || every < TimeSpan.FromMilliseconds(100))
            {
                await stderr.WriteLineAsync($"error: --trials {t} / --evaluations {e} / --interval {DurationArgument.Format(every)}: expected at least 1 trial, 10 evaluations and an interval of at least 100ms (e.g. 5s).");
                return ExitCodes.Usage;
            }
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            await using var workspace = await BenchWorkspace.CreateAsync(parsed.GetValue(workDir), keep: false, ct);
            var result = await AlertEvaluationRun.RunAsync(workspace, t, every, e, stderr, ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }
}
