using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Fleet;

/// <summary>
/// Cold start to "all replicas healthy", measured from the launch of the silo process. Each trial starts a silo on
/// an empty data directory (catalog initdb, fleet initdb + pg_basebackup, Orleans, registration, first probes),
/// stops it with SIGTERM, then starts it again on the same directory (everything reused) and stops it again.
/// The data directory is deleted before each trial and at the end (unless kept); silo logs are always kept.
/// </summary>
public static class ColdStartRun
{
    public static async Task<ColdStartResult> RunAsync(ColdStartSettings settings, TextWriter progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        var loadBefore = MachineInfo.LoadAverage();
        Directory.CreateDirectory(settings.LogDirectory);
        var starts = new List<SiloStart>();
        try
        {
            for (var trial = 1; trial <= settings.Trials; trial++)
            {
                if (!await CleanAsync(settings.DataDirectory))
                {
                    throw new IOException($"could not empty '{settings.DataDirectory}' before trial {trial}; a first start needs an empty directory.");
                }
                foreach (var kind in new[] { "first", "restart" })
                {
                    var start = await MeasureAsync(settings, trial, kind, ct);
                    starts.Add(start);
                    await progress.WriteLineAsync(
                        $"trial {trial} {kind}: healthy after {start.HealthySeconds?.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) ?? "-"}s"
                        + (start.Problem is null ? "" : $" ({start.Problem})"));
                    if (start.HealthySeconds is null) return Result(settings, loadBefore, starts);
                }
            }
            return Result(settings, loadBefore, starts);
        }
        finally
        {
            if (!settings.Keep && !await CleanAsync(settings.DataDirectory))
            {
                await progress.WriteLineAsync($"warning: could not delete '{settings.DataDirectory}'; check for PostgreSQL servers still using it.");
            }
        }
    }

    private static async Task<SiloStart> MeasureAsync(ColdStartSettings settings, int trial, string kind, CancellationToken ct)
    {
        var logFile = Path.Combine(settings.LogDirectory, $"trial{trial}-{kind}.log");
        Readiness readiness;
        SiloStop stop;
        var silo = SiloProcess.Start(settings.Silo, settings.DataDirectory, logFile);
        await using (silo)
        {
            try
            {
                readiness = await FleetReadiness.WaitAsync(silo, settings.Tiers, settings.Replicas, settings.StartTimeout, ct);
            }
            finally
            {
                // Also on Ctrl-C and exceptions: the silo and the instances it started never outlive the benchmark.
                stop = await silo.StopAsync(settings.StopTimeout);
            }
        }
        var (warnings, errors) = CountLogLevels(logFile);
        return new SiloStart(trial, kind, Seconds(readiness.GatewayUp), Seconds(readiness.ReportedHealthy), Seconds(readiness.Healthy), stop, warnings, errors, logFile,
            readiness.Healthy is null ? readiness.LastState : stop.Killed ? "silo did not stop on SIGTERM and was killed" : null);
    }

    private static ColdStartResult Result(ColdStartSettings settings, string loadBefore, List<SiloStart> starts) => new(
        "coldstart", settings.Silo.FullName, settings.DataDirectory, settings.Trials, MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(),
        starts,
        ColdStartResult.Median(starts.Where(s => s.Kind == "first").Select(s => s.HealthySeconds)),
        ColdStartResult.Median(starts.Where(s => s.Kind == "restart").Select(s => s.HealthySeconds)),
        ColdStartResult.Median(starts.Select(s => s.Stop?.Seconds)));

    /// <summary>Lines the silo logged at warning level and at error/critical level.</summary>
    private static (int Warnings, int Errors) CountLogLevels(string logFile)
    {
        var warnings = 0;
        var errors = 0;
        foreach (var line in File.ReadLines(logFile))
        {
            var text = line.Length > 12 ? line[12..] : line;
            if (text.StartsWith("warn:", StringComparison.Ordinal)) warnings++;
            else if (text.StartsWith("fail:", StringComparison.Ordinal) || text.StartsWith("crit:", StringComparison.Ordinal)) errors++;
        }
        return (warnings, errors);
    }

    /// <summary>
    /// Deletes the data directory. A silo killed while it was still starting an instance can leave a postmaster
    /// that appears (and writes its files) a moment later, so: sweep, delete, and retry for a few seconds.
    /// </summary>
    private static async Task<bool> CleanAsync(string dataDirectory)
    {
        for (var attempt = 1; attempt <= 20; attempt++)
        {
            if (!Directory.Exists(dataDirectory)) return true;
            await PostmasterSweep.StopLeftoversAsync(dataDirectory, TimeSpan.FromSeconds(30));
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
                return true;
            }
            catch (IOException)
            {
                await Task.Delay(500);
            }
        }
        return !Directory.Exists(dataDirectory);
    }

    private static double? Seconds(TimeSpan? span) => span is { } s ? Math.Round(s.TotalSeconds, 3) : null;
}
