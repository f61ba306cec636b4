using System.CommandLine;
using ControlPlane.Bench.Backups;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Monitoring;

/// <summary>
/// <c>monitoring-sample</c>: what one replica's performance sampler costs per tick (docs/monitoring.md): wall time of
/// a cheap and of a heavy cycle, CPU of the monitored server's backend that answers them, and CPU of the sampling
/// process (SQL client plus the pure readings), against a real primary filled by <c>pgbench -i</c> and given
/// <c>--tables</c> more small indexed tables, with pg_stat_statements holding a workload's statements.
/// </summary>
public static class SamplingCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scale = new Option<int>("--scale") { Description = "pgbench -i scale of the monitored primary", DefaultValueFactory = _ => 5 };
        var tables = new Option<int>("--tables") { Description = "Extra tables (each with an index and rows) the heavy family reads", DefaultValueFactory = _ => 200 };
        var cycles = new Option<int>("--cycles") { Description = "Cheap cycles measured", DefaultValueFactory = _ => 200 };
        var heavyCycles = new Option<int>("--heavy-cycles") { Description = "Heavy cycles measured", DefaultValueFactory = _ => 20 };
        var workDir = new Option<string?>("--work-dir") { Description = "Parent of the benchmark's scratch directory (default: the system temp directory)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("monitoring-sample", "Cost per tick of the monitoring sampler: wall time, server backend CPU and client CPU of cheap and heavy cycles")
        {
            scale, tables, cycles, heavyCycles, workDir, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var (s, t, c, h) = (parsed.GetValue(scale), parsed.GetValue(tables), parsed.GetValue(cycles), parsed.GetValue(heavyCycles));
            if (s < 1 || t < 0 || c < 2 || h < 2)
            {
                await stderr.WriteLineAsync($"error: --scale {s} / --tables {t} / --cycles {c} / --heavy-cycles {h}: expected scale >= 1, tables >= 0, at least 2 cycles of each.");
                return ExitCodes.Usage;
            }
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            await using var workspace = await BenchWorkspace.CreateAsync(parsed.GetValue(workDir), keep: false, ct);
            var result = await SamplingRun.RunAsync(workspace, s, t, c, h, stderr, ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }
}
