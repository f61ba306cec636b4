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
        var replicas = new Option<int>("--replicas") { Description = "Instead of per-cycle costs: sample this many simulated replicas at once at the silo's intervals and report this process's CPU (0: off)" };
        var duration = DurationArgument.Option("--duration", TimeSpan.FromMinutes(5), "Length of the --replicas run");
        var cheapInterval = DurationArgument.Option("--cheap-interval", TimeSpan.FromSeconds(5), "Cheap family's interval in the --replicas run (the silo's default)");
        var heavyInterval = DurationArgument.Option("--heavy-interval", TimeSpan.FromMinutes(5), "Heavy family's interval in the --replicas run (the silo's default)");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("monitoring-sample", "Cost per tick of the monitoring sampler: wall time, server backend CPU and client CPU of cheap and heavy cycles")
        {
            scale, tables, cycles, heavyCycles, replicas, duration, cheapInterval, heavyInterval, workDir, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var (s, t, c, h) = (parsed.GetValue(scale), parsed.GetValue(tables), parsed.GetValue(cycles), parsed.GetValue(heavyCycles));
            if (s < 1 || t < 0 || c < 2 || h < 2)
            {
                await stderr.WriteLineAsync($"error: --scale {s} / --tables {t} / --cycles {c} / --heavy-cycles {h}: expected scale >= 1, tables >= 0, at least 2 cycles of each.");
                return ExitCodes.Usage;
            }
            var n = parsed.GetValue(replicas);
            if (n > 0)
            {
                var (d, ci, hi) = (parsed.GetValue(duration), parsed.GetValue(cheapInterval), parsed.GetValue(heavyInterval));
                if (n > 1000 || d < TimeSpan.FromSeconds(10) || ci < TimeSpan.FromSeconds(1) || hi < ci)
                {
                    await stderr.WriteLineAsync("error: --replicas 1 to 1000 with --duration of at least 10s, --cheap-interval of at least 1s and --heavy-interval at least the cheap one (e.g. 5m, 5s, 5m).");
                    return ExitCodes.Usage;
                }
                await using var fleetWorkspace = await BenchWorkspace.CreateAsync(parsed.GetValue(workDir), keep: false, ct);
                var fleet = await SamplingFleetRun.RunAsync(fleetWorkspace, s, t, n, d, ci, hi, stderr, ct);
                await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(fleet) : fleet.Render());
                return ExitCodes.Ok;
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
