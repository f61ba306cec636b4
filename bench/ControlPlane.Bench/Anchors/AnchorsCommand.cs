using System.CommandLine;
using ControlPlane.Bench.Common;
using ControlPlane.Bench.Fleet;

namespace ControlPlane.Bench.Anchors;

/// <summary><c>failover-anchors</c>: ours, Patroni (default and tuned timings) and pg_auto_failover broken the same ways in one run, measured by the same writer.</summary>
public static class AnchorsCommand
{
    public static readonly IReadOnlyList<string> AllSystems = ["ours", PatroniProfile.Default.Name, PatroniProfile.Tuned.Name, "pg-auto-failover"];
    private static readonly string[] Binaries = ["/usr/bin/etcd", "/usr/bin/patroni", "/usr/bin/pg_autoctl", $"{PatroniSystem.PostgresBin}/postgres", "/usr/bin/setpriv"];

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var workDir = new Option<DirectoryInfo>("--work-dir") { Description = "Directory for every process the run starts (data, logs); must be empty or absent", Required = true, HelpName = "DIR" };
        var systems = new Option<string>("--systems") { Description = $"Comma-separated systems to run, in order (default: {string.Join(',', AllSystems)})", DefaultValueFactory = _ => string.Join(',', AllSystems) };
        var scenarios = new Option<string>("--scenarios") { Description = "Comma-separated scenarios to run, by letter: a postmaster SIGKILL, b postmaster SIGSTOP, c short stalls, d node loss, e consensus leader + node, f the primary's disk full, g the primary in a crash loop (default: all)", DefaultValueFactory = _ => "a,b,c,d,e,f,g" };
        var trials = new Option<int>("--trials") { Description = "Trials per scenario and system", DefaultValueFactory = _ => 5 };
        var stalls = new Option<int>("--stalls") { Description = "Short stalls of the primary per system (false-failover count)", DefaultValueFactory = _ => 10 };
        var stallLength = DurationArgument.Option("--stall-length", TimeSpan.FromSeconds(1), "Length of one stall (SIGSTOP of every process of the primary)");
        var hang = DurationArgument.Option("--hang-timeout", TimeSpan.FromSeconds(30), "How long a fault that leaves the node running lasts when no other node takes writes: the frozen postmaster (b), the full disk (f), the crash loop (g)");
        var crashInterval = DurationArgument.Option("--crash-interval", TimeSpan.FromSeconds(3), "Scenario g: time between two SIGKILLs of the primary's checkpointer (each makes PostgreSQL restart in place)");
        var diskSize = new Option<int>("--disk-mib") { Description = "Scenario f: size in MiB of each node's own disk (a tmpfs mounted where its data directory lives; every scenario of the run then uses it)", DefaultValueFactory = _ => (int)(SmallDisks.DefaultBytes / (1024 * 1024)) };
        var fault = DurationArgument.Option("--fault-timeout", TimeSpan.FromSeconds(120), "Give up waiting for a write after a kill after this long");
        var ready = DurationArgument.Option("--ready-timeout", TimeSpan.FromSeconds(180), "Give up waiting for a system to be whole again between trials after this long");
        var silo = new Option<FileInfo?>("--silo") { Description = $"Silo to launch for ours (default: {SiloBinary.ProjectPath} built in Release)", HelpName = "PATH" };
        var noBuild = new Option<bool>("--no-build") { Description = $"Do not run 'dotnet build -c Release {SiloBinary.ProjectPath}' first" };
        var keep = new Option<bool>("--keep") { Description = "Keep the work directory (data and logs) afterwards" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON instead of a table" };
        var output = new Option<FileInfo?>("--output") { Description = "Also write the JSON result to this file (rewritten after each system)", HelpName = "FILE" };
        IntOption.Range(trials, 1, 100);
        IntOption.Range(stalls, 0, 1000);
        IntOption.Range(diskSize, 256, 16384);

        var command = new Command("failover-anchors",
            "Failover side by side with Patroni and pg_auto_failover on this machine: postmaster SIGKILL, postmaster SIGSTOP, short stalls, node loss, consensus leader + node loss, disk full, crash loop. Needs root and the Debian packages (tests/setup/anchors.sh).")
        {
            workDir, systems, scenarios, trials, stalls, stallLength, hang, crashInterval, diskSize, fault, ready, silo, noBuild, keep, json, output,
        };
        command.SetAction(async (parsed, ct) =>
        {
            var dir = parsed.GetValue(workDir)!;
            if (dir.Exists && dir.EnumerateFileSystemInfos().Any())
            {
                await stderr.WriteLineAsync($"error: --work-dir '{dir.FullName}' is not empty; the benchmark starts fresh clusters there.");
                return ExitCodes.Usage;
            }
            // A crash loop with no pause would only measure how fast the bench can send SIGKILL.
            if (parsed.GetValue(crashInterval) is var every && (every < TimeSpan.FromMilliseconds(500) || every > TimeSpan.FromMinutes(10)))
            {
                await stderr.WriteLineAsync($"error: --crash-interval: expected 500ms to 10m, got {DurationArgument.Format(every)}.");
                return ExitCodes.Usage;
            }
            var chosen = parsed.GetValue(systems)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (chosen.Length == 0 || chosen.FirstOrDefault(c => !AllSystems.Contains(c)) is { } unknown && unknown is not null)
            {
                await stderr.WriteLineAsync($"error: --systems: expected a comma-separated subset of {string.Join(',', AllSystems)}, got '{parsed.GetValue(systems)}'.");
                return ExitCodes.Usage;
            }
            var letters = parsed.GetValue(scenarios)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (letters.Length == 0 || letters.FirstOrDefault(l => l.Length != 1 || !AnchorsSettings.AllScenarios.Contains(l[0])) is { } bad && bad is not null)
            {
                await stderr.WriteLineAsync($"error: --scenarios: expected a comma-separated subset of {string.Join(',', AnchorsSettings.AllScenarios)}, got '{parsed.GetValue(scenarios)}'.");
                return ExitCodes.Usage;
            }
            if (OperatingSystem.IsWindows() || Environment.UserName != "root")
            {
                await stderr.WriteLineAsync("error: failover-anchors must run as root: it runs the anchors as the postgres user (setpriv) and signals their processes.");
                return ExitCodes.Usage;
            }
            if (chosen.Any(c => c != "ours") && Binaries.FirstOrDefault(b => !File.Exists(b)) is { } missing)
            {
                await stderr.WriteLineAsync($"error: {missing} is missing; install the anchors first: bash tests/setup/anchors.sh");
                return ExitCodes.Usage;
            }
            FileInfo? siloFile = null;
            if (chosen.Contains("ours"))
            {
                (siloFile, var refused) = await SiloBinary.PrepareAsync(parsed.GetValue(silo), parsed.GetValue(noBuild), stderr, ct);
                if (siloFile is null) return refused;
            }
            Directory.CreateDirectory(dir.FullName);
            // The anchors run as postgres and must reach their directories under this one.
            File.SetUnixFileMode(dir.FullName, (UnixFileMode)0b111_101_101);
            var settings = new AnchorsSettings(dir.FullName, siloFile, chosen, parsed.GetValue(trials), parsed.GetValue(stalls), parsed.GetValue(stallLength),
                parsed.GetValue(hang), parsed.GetValue(fault), parsed.GetValue(ready), parsed.GetValue(output), parsed.GetValue(keep),
                [.. letters.Select(l => l[0])], parsed.GetValue(crashInterval), parsed.GetValue(diskSize) * 1024L * 1024);
            try
            {
                var result = await AnchorRun.RunAsync(settings, (name, marker) => CreateSystem(settings, name, marker), stderr, ct);
                if (!parsed.GetValue(json)) await stdout.WriteLineAsync(result.Render());
                await JsonReport.WriteAsync(result, parsed.GetValue(json), parsed.GetValue(output), stdout, CancellationToken.None);
                return result.Systems.All(s => s.Error is null) ? ExitCodes.Ok : ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"interrupted; every process of the run was stopped. Logs: {dir.FullName}");
                return ExitCodes.Interrupted;
            }
            finally
            {
                if (!settings.Keep) TryDelete(dir.FullName);
                else await stderr.WriteLineAsync($"kept {dir.FullName}");
            }
        });
        return command;
    }

    private static IAnchorSystem CreateSystem(AnchorsSettings settings, string name, IReadOnlyDictionary<string, string> marker)
    {
        var root = Path.Combine(settings.WorkDirectory, name);
        return name switch
        {
            "ours" => new OursSystem(settings.Silo!, root, marker, settings.NodeDiskBytes),
            "pg-auto-failover" => new PgAutoFailoverSystem(PatroniSystem.OwnedDirectory(root), marker, settings.NodeDiskBytes),
            _ => new PatroniSystem(PatroniSystem.OwnedDirectory(root), name == PatroniProfile.Tuned.Name ? PatroniProfile.Tuned : PatroniProfile.Default, marker, settings.NodeDiskBytes),
        };
    }

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }
}
