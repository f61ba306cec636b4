using System.CommandLine;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Backups;

/// <summary>
/// <c>backups</c>: our base backup, verification and restore against pgBackRest's, side by side on one pgbench database.
/// </summary>
/// <remarks>
/// RPO hook: a second mode, <c>backups --rpo</c> (how much committed data a restore loses under a steady write load,
/// with WAL shipped by <c>WalArchiver</c>), belongs here as another option switching to its own run class next to
/// <see cref="BackupsRun"/>; it starts from the same <see cref="BenchPrimary"/> and <see cref="BenchWorkspace"/>.
/// </remarks>
public static class BackupsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var scale = new Option<int>("--scale") { Description = "pgbench scale factor of the database (about 15 MB per unit)", DefaultValueFactory = _ => 30 };
        var repeat = new Option<int>("--repeat") { Description = "Runs per tool, alternating which goes first; medians are reported", DefaultValueFactory = _ => 3 };
        var workDir = new Option<DirectoryInfo?>("--work-dir") { Description = "Where to create the temporary directory (default: the system temp directory)", HelpName = "DIR" };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary directory afterwards (instances are stopped all the same)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file", HelpName = "FILE" };
        IntOption.Range(scale, 1, 10_000);
        IntOption.Range(repeat, 1, 50);

        var command = new Command("backups", "Base backup, verification and restore: ours against pgBackRest (lz4, one process) on the same pgbench database.")
        {
            scale, repeat, workDir, keep, json, output,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var parent = parsed.GetValue(workDir);
            if (parent is not null && !parent.Exists)
            {
                await stderr.WriteLineAsync($"error: --work-dir '{parent.FullName}' does not exist.");
                return ExitCodes.Usage;
            }
            var settings = new BackupsSettings(parsed.GetValue(scale), parsed.GetValue(repeat), parent?.FullName, parsed.GetValue(keep));
            try
            {
                var result = await BackupsRun.RunAsync(settings, stderr, ct);
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, CancellationToken.None);
                return result.Complete ? ExitCodes.Ok : ExitCodes.Failed;
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
