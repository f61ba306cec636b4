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
        var trials = new Option<int>("--trials") { Description = "Trials per scenario (SIGKILL, SIGSTOP, switchover)", DefaultValueFactory = _ => 10 };
        var pauses = new Option<int>("--pauses") { Description = "Short pauses of the primary in the false-failover check", DefaultValueFactory = _ => 10 };
        var pauseLength = DurationArgument.Option("--pause-length", TimeSpan.FromMilliseconds(600), "Length of one short pause (below probe interval × threshold)");
        var converge = DurationArgument.Option("--converge-timeout", TimeSpan.FromSeconds(90), "Give up waiting for the tier to converge between trials after this long");
        var silo = new Option<FileInfo?>("--silo") { Description = $"Silo to launch (default: {SiloBinary.ProjectPath} built in Release)", HelpName = "PATH" };
        var noBuild = new Option<bool>("--no-build") { Description = $"Do not run 'dotnet build -c Release {SiloBinary.ProjectPath}' first" };
        var keep = new Option<bool>("--keep") { Description = "Keep the data directory afterwards" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        IntOption.Range(trials, 1, 100);
        IntOption.Range(pauses, 0, 1000);

        var command = new Command("failover", "Failover as a client sees it: SIGKILL and SIGSTOP of the primary, planned switchover, short pauses.")
        {
            dataDir, trials, pauses, pauseLength, converge, silo, noBuild, keep, json, output,
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
                parsed.GetValue(trials), parsed.GetValue(pauses), parsed.GetValue(pauseLength), parsed.GetValue(converge), parsed.GetValue(keep));
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
