using System.CommandLine;
using ControlPlane.Bench.Common;
using ControlPlane.Bench.Fleet;

namespace ControlPlane.Bench.Failover;

/// <summary><c>failover</c>: time to the first write on the new primary after SIGKILL / SIGSTOP, switchover write gap, false failovers.</summary>
public static class FailoverCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "Data directory for the silo it starts; must be empty or absent", Required = true, HelpName = "DIR" };
        var trials = new Option<int>("--trials") { Description = "Trials per scenario (SIGKILL, SIGSTOP, switchover); 0 runs the stalls only", DefaultValueFactory = _ => 10 };
        var pauses = new Option<int>("--pauses") { Description = "Short stalls (SIGSTOP) in the false-failover check", DefaultValueFactory = _ => 10 };
        var pauseLength = DurationArgument.Option("--pause-length", TimeSpan.FromMilliseconds(600), "Length of one short stall (below probe interval × threshold)");
        var pauseLengths = new Option<IReadOnlyList<TimeSpan>?>("--pause-lengths")
        {
            Description = "Stall lengths used in turn instead of --pause-length, comma-separated (e.g. 1s,2s,3s)",
            HelpName = "DURATIONS",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                var lengths = new List<TimeSpan>();
                foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
                {
                    if (DurationArgument.TryParse(part, out var length) && length > TimeSpan.Zero) lengths.Add(length);
                    else result.AddError($"--pause-lengths: '{part}' is not a positive duration; expected a comma-separated list such as 1s,2s,3s.");
                }
                return lengths;
            },
        };
        var pauseScope = new Option<StallScope>("--pause-scope") { Description = "Freeze the primary's processes, or every instance of the tier (a host-wide stall)", DefaultValueFactory = _ => StallScope.Primary };
        var checkpoints = new Option<int>("--checkpoint-stalls") { Description = "I/O-heavy checkpoints on the primary (ballast, then CHECKPOINT) in the false-failover check", DefaultValueFactory = _ => 0 };
        var ballast = new Option<int>("--checkpoint-mib") { Description = "MiB each checkpoint stall writes out", DefaultValueFactory = _ => 256 };
        var threshold = new Option<int?>("--failure-threshold") { Description = "The tier's failure_threshold for the run (cpctl ha TIER --failure-threshold); default: the tier's default" };
        var probeInterval = new Option<TimeSpan?>("--probe-interval")
        {
            Description = "The tier's probe_interval for the run (e.g. 500ms); default: the tier's default",
            HelpName = "DURATION",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                if (DurationArgument.TryParse(text, out var value) && value >= TimeSpan.FromMilliseconds(100)) return value;
                result.AddError($"--probe-interval: '{text}' is not a duration of at least 100ms.");
                return null;
            },
        };
        var converge = DurationArgument.Option("--converge-timeout", TimeSpan.FromSeconds(90), "Give up waiting for the tier to converge between trials after this long");
        var silo = new Option<FileInfo?>("--silo") { Description = $"Silo to launch (default: {SiloBinary.ProjectPath} built in Release)", HelpName = "PATH" };
        var noBuild = new Option<bool>("--no-build") { Description = $"Do not run 'dotnet build -c Release {SiloBinary.ProjectPath}' first" };
        var keep = new Option<bool>("--keep") { Description = "Keep the data directory afterwards" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        IntOption.Range(trials, 0, 100);
        IntOption.Range(pauses, 0, 1000);
        IntOption.Range(checkpoints, 0, 100);
        IntOption.Range(ballast, 16, 4096);
        threshold.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } value and (< 1 or > 100)) r.AddError($"--failure-threshold: expected 1 to 100, got {value}.");
        });

        var command = new Command("failover", "Failover as a client sees it: SIGKILL and SIGSTOP of the primary, planned switchover, short pauses.")
        {
            dataDir, trials, pauses, pauseLength, pauseLengths, pauseScope, checkpoints, ballast, threshold, probeInterval, converge, silo, noBuild, keep, json, output,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var data = parsed.GetValue(dataDir)!;
            if (data.Exists && data.EnumerateFileSystemInfos().Any())
            {
                await stderr.WriteLineAsync($"error: --data-dir '{data.FullName}' is not empty; the failover benchmark provisions a fresh tier there.");
                return ExitCodes.Usage;
            }
            var (siloFile, refused) = await SiloBinary.PrepareAsync(parsed.GetValue(silo), parsed.GetValue(noBuild), stderr, ct);
            if (siloFile is null) return refused;
            var settings = new FailoverBenchSettings(siloFile, data.FullName, data.FullName.TrimEnd('/') + ".log",
                parsed.GetValue(trials), parsed.GetValue(pauses), parsed.GetValue(pauseLength), parsed.GetValue(converge), parsed.GetValue(keep),
                parsed.GetValue(pauseLengths), parsed.GetValue(pauseScope), parsed.GetValue(checkpoints), parsed.GetValue(ballast),
                parsed.GetValue(threshold), parsed.GetValue(probeInterval));
            try
            {
                var result = await FailoverRun.RunAsync(settings, stderr, ct);
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, CancellationToken.None);
                await stderr.WriteLineAsync($"silo log: {settings.LogFile}");
                var complete = result.Summaries.All(s => s.Measured == s.Trials);
                return complete && result.FalseFailovers == 0 ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"interrupted; the silo was stopped. Log: {settings.LogFile}");
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }
}
