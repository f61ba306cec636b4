using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Fleet;

/// <summary><c>coldstart</c>: launch a silo, time it to all replicas healthy; first start and restart, N trials.</summary>
public static class ColdStartCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "Data directory for the silo; must be empty or absent (it is deleted between trials)", Required = true, HelpName = "DIR" };
        var trials = new Option<int>("--trials") { Description = "Trials; each is a first start and a restart", DefaultValueFactory = _ => 3 };
        var keep = new Option<bool>("--keep") { Description = "Keep the data directory of the last trial" };
        var silo = new Option<FileInfo?>("--silo") { Description = $"Silo to launch: ControlPlane.Silo.dll or its apphost (default: {SiloBinary.ProjectPath} built in Release)", HelpName = "PATH" };
        var noBuild = new Option<bool>("--no-build") { Description = $"Do not run 'dotnet build -c Release {SiloBinary.ProjectPath}' first" };
        var logDir = new Option<DirectoryInfo?>("--log-dir") { Description = "Where silo logs go (default: <data-dir>.logs next to the data directory)", HelpName = "DIR" };
        var tiers = new Option<int>("--tiers") { Description = "Tiers that must be healthy", DefaultValueFactory = _ => 4 };
        var replicas = new Option<int>("--replicas") { Description = "Replicas (all tiers) that must be healthy", DefaultValueFactory = _ => 8 };
        var timeout = DurationArgument.Option("--start-timeout", TimeSpan.FromMinutes(5), "Give up on one start after this long");
        var stopTimeout = DurationArgument.Option("--stop-timeout", TimeSpan.FromMinutes(1), "SIGKILL a silo that has not exited this long after SIGTERM");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        IntOption.Range(trials, 1, 50);

        var command = new Command("coldstart", "Time from launching the silo to all tiers and replicas healthy: first start and restart.")
        {
            dataDir, trials, keep, silo, noBuild, logDir, tiers, replicas, timeout, stopTimeout, json, output,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var data = parsed.GetValue(dataDir)!;
            if (data.Exists && data.EnumerateFileSystemInfos().Any())
            {
                await stderr.WriteLineAsync($"error: --data-dir '{data.FullName}' is not empty; coldstart needs an empty or absent directory, since it deletes it between trials.");
                return ExitCodes.Usage;
            }
            var (siloFile, refused) = await SiloBinary.PrepareAsync(parsed.GetValue(silo), parsed.GetValue(noBuild), stderr, ct);
            if (siloFile is null) return refused;

            var settings = new ColdStartSettings(siloFile, data.FullName,
                parsed.GetValue(logDir)?.FullName ?? data.FullName.TrimEnd('/') + ".logs",
                parsed.GetValue(trials), parsed.GetValue(tiers), parsed.GetValue(replicas),
                parsed.GetValue(timeout), parsed.GetValue(stopTimeout), parsed.GetValue(keep));
            try
            {
                var result = await ColdStartRun.RunAsync(settings, stderr, ct);
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, CancellationToken.None);
                await stderr.WriteLineAsync($"silo logs: {settings.LogDirectory}");
                return result.AllHealthy && result.Starts.Count == 2 * settings.Trials ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"interrupted; the silo was stopped. Logs: {settings.LogDirectory}");
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }
}
