using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Backups;

/// <summary><c>archive-rpo</c>: the continuous WAL archive's recovery point under a steady pgbench write load.</summary>
public static class ArchiveRpoCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scale = new Option<int>("--scale") { Description = "pgbench scale factor", DefaultValueFactory = _ => 10 };
        var clients = new Option<int>("--clients") { Description = "pgbench clients writing", DefaultValueFactory = _ => 4 };
        var duration = new Option<int>("--seconds") { Description = "How long the write load runs", DefaultValueFactory = _ => 30 };
        var interval = new Option<int>("--sample-ms") { Description = "Time between two samples of the archive's position", DefaultValueFactory = _ => 20 };
        var workDir = new Option<DirectoryInfo?>("--work-dir") { Description = "Parent of the temporary directory", HelpName = "DIR" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        var command = new Command("archive-rpo", "RPO of the continuous WAL archive (pg_receivewal, synchronous) under a steady pgbench write load.")
        {
            scale, clients, duration, interval, workDir, json, output,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var settings = new ArchiveRpoSettings(parsed.GetValue(scale), parsed.GetValue(clients), TimeSpan.FromSeconds(parsed.GetValue(duration)),
                TimeSpan.FromMilliseconds(parsed.GetValue(interval)), parsed.GetValue(workDir)?.FullName);
            if (settings.Scale < 1 || settings.Clients is < 1 or > 64 || settings.Duration < TimeSpan.FromSeconds(5) || settings.SampleInterval < TimeSpan.FromMilliseconds(5))
            {
                await stderr.WriteLineAsync("error: expected --scale >= 1, --clients 1 to 64, --seconds >= 5, --sample-ms >= 5.");
                return ExitCodes.Usage;
            }
            try
            {
                var result = await ArchiveRpoRun.RunAsync(settings, stderr, ct);
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, CancellationToken.None);
                return ExitCodes.Ok;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("interrupted; every instance was stopped and the work directory removed.");
                return ExitCodes.Interrupted;
            }
        });
        return command;
    }
}
