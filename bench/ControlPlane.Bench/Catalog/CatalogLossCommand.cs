using System.CommandLine;
using ControlPlane.Bench.Common;
using ControlPlane.Bench.Fleet;

namespace ControlPlane.Bench.Catalog;

/// <summary><c>catalog-loss</c>: the embedded catalog SIGKILLed → first command accepted; restore from its backup → commands again.</summary>
public static class CatalogLossCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var dataDir = new Option<DirectoryInfo>("--data-dir") { Description = "Data directory for the silo it starts; must be empty or absent", Required = true, HelpName = "DIR" };
        var trials = new Option<int>("--trials") { Description = "SIGKILLs of the catalog's postmaster", DefaultValueFactory = _ => 5 };
        var restores = new Option<int>("--restores") { Description = "Restores of the catalog from its backup (silo stopped, catalog directory removed)", DefaultValueFactory = _ => 3 };
        var silo = new Option<FileInfo?>("--silo") { Description = $"Silo to launch (default: {SiloBinary.ProjectPath} built in Release)", HelpName = "PATH" };
        var noBuild = new Option<bool>("--no-build") { Description = $"Do not run 'dotnet build -c Release {SiloBinary.ProjectPath}' first" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        IntOption.Range(trials, 1, 50);
        IntOption.Range(restores, 0, 20);
        var command = new Command("catalog-loss", "The embedded catalog lost: SIGKILL of its postmaster → first mutating command accepted; restore from its backup → commands accepted.")
        {
            dataDir, trials, restores, silo, noBuild, json, output,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var data = parsed.GetValue(dataDir)!;
            if (data.Exists && data.EnumerateFileSystemInfos().Any())
            {
                await stderr.WriteLineAsync($"error: --data-dir '{data.FullName}' is not empty; the benchmark provisions a fresh silo there.");
                return ExitCodes.Usage;
            }
            var (siloFile, refused) = await SiloBinary.PrepareAsync(parsed.GetValue(silo), parsed.GetValue(noBuild), stderr, ct);
            if (siloFile is null) return refused;
            var settings = new CatalogLossSettings(siloFile, data.FullName, parsed.GetValue(trials), parsed.GetValue(restores));
            try
            {
                var result = await CatalogLossRun.RunAsync(settings, stderr, ct);
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, CancellationToken.None);
                return ExitCodes.Ok;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("interrupted; the silo was stopped.");
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }
}

public sealed record CatalogLossSettings(FileInfo Silo, string DataDirectory, int Trials, int Restores)
{
    public string LogFile(int run) => DataDirectory.TrimEnd('/') + $"-silo{run}.log";
}
