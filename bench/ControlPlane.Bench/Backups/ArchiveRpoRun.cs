using System.Diagnostics;
using System.Globalization;
using ControlPlane.Bench.Common;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Bench.Backups;

/// <summary>What the <c>archive-rpo</c> benchmark runs.</summary>
public sealed record ArchiveRpoSettings(int Scale, int Clients, TimeSpan Duration, TimeSpan SampleInterval, string? WorkDirectory);

/// <summary>
/// RPO of the continuous WAL archive under a steady write load: a pgbench primary, our <see cref="WalArchiver"/>
/// (pg_receivewal --synchronous on a slot) streaming into a repository, pgbench writing for the duration. Every
/// sample reads, in one query, the primary's WAL position and what the archiver has flushed. The exposure of a
/// sample is the time until a later sample shows that position stored: how long written WAL was at risk (its
/// resolution is the sample interval). The primary's own <c>flush_lag</c> for the archiver is reported beside it.
/// </summary>
public static class ArchiveRpoRun
{
    public static async Task<ArchiveRpoResult> RunAsync(ArchiveRpoSettings settings, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var loadBefore = MachineInfo.LoadAverage();
        await using var workspace = await BenchWorkspace.CreateAsync(settings.WorkDirectory, keep: false, ct);
        var primary = await BenchPrimary.CreateAsync(workspace, settings.Scale, log, ct);
        var repository = new TierRepository(await workspace.PostgresDirectoryAsync("repo", ct), "bench", BenchPrimary.Tier);
        await using var archiver = new WalArchiver(new WalArchiverOptions(repository), NullLogger.Instance);
        await archiver.FollowAsync(new ReplicationSource(primary.Driver.Endpoint, workspace.ReplicatorPasswordFile), ct);
        await WaitCaughtUpAsync(archiver, ct);
        await log.WriteLineAsync($"archiver streaming; pgbench -c {settings.Clients} for {settings.Duration.TotalSeconds:F0} s");

        var clock = Stopwatch.StartNew();
        var pgbench = ProcessRunner.RunCheckedAsync(new ProcessSpec(PgBinaries.Shared.Tool("pgbench"),
            ["-c", settings.Clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", ((int)settings.Duration.TotalSeconds).ToString(CultureInfo.InvariantCulture),
             "-h", "127.0.0.1", "-p", primary.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", BenchPrimary.Database])
        {
            AsPostgres = true,
            Environment = new Dictionary<string, string> { ["PGPASSFILE"] = primary.PassFile },
            Timeout = settings.Duration + TimeSpan.FromMinutes(2),
        }, ct);
        var samples = new List<(long Ticks, ulong Primary, ulong? Stored, TimeSpan? FlushLag)>();
        using var timer = new PeriodicTimer(settings.SampleInterval);
        while (!pgbench.IsCompleted && await timer.WaitForNextTickAsync(ct))
        {
            var s = await archiver.SampleAsync(ct);
            samples.Add((clock.ElapsedTicks, s.PrimaryLsn, s.StoredLsn, s.FlushLag));
        }
        var output = (await pgbench).StandardOutput;
        var status = archiver.Status;

        var exposures = new List<long>();
        var unresolved = 0;
        for (var i = 0; i < samples.Count; i++)
        {
            var j = i;
            while (j < samples.Count && (samples[j].Stored ?? 0) < samples[i].Primary) j++;
            if (j == samples.Count) unresolved++;
            else exposures.Add(samples[j].Ticks - samples[i].Ticks);
        }
        var lags = samples.Where(s => s.FlushLag is not null).Select(s => (long)(s.FlushLag!.Value.TotalSeconds * Stopwatch.Frequency)).ToArray();
        var tps = output.Split('\n').FirstOrDefault(l => l.StartsWith("tps", StringComparison.Ordinal))?.Trim() ?? "";
        var walBytes = samples.Count > 1 ? (long)(samples[^1].Primary - samples[0].Primary) : 0;
        var spacingMs = samples.Count > 1 ? (samples[^1].Ticks - samples[0].Ticks) * 1000.0 / Stopwatch.Frequency / (samples.Count - 1) : 0;
        return new ArchiveRpoResult(MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(), settings, samples.Count, unresolved, spacingMs,
            LatencySummary.FromTicks([.. exposures]), LatencySummary.FromTicks(lags), exposures.Count(e => e <= Stopwatch.Frequency),
            tps, walBytes, status.Restarts);
    }

    private static async Task WaitCaughtUpAsync(WalArchiver archiver, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var s = await archiver.SampleAsync(ct);
            if (s.StoredLsn is { } stored && stored >= s.PrimaryLsn) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the archiver did not catch up within a minute: {archiver.Status}");
            await Task.Delay(100, ct);
        }
    }
}

/// <summary>The archive's RPO figures of one run.</summary>
public sealed record ArchiveRpoResult(
    MachineInfo Machine, string LoadBefore, string LoadAfter, ArchiveRpoSettings Settings, int Samples, int Unresolved, double MeanSpacingMs,
    LatencySummary Exposure, LatencySummary FlushLag, int WithinOneSecond, string PgbenchTps, long WalBytes, int ArchiverRestarts)
{
    public string Render() => string.Join(Environment.NewLine,
        $"archive-rpo on {Machine.Host} ({Machine.Processors} CPUs), {Machine.At:yyyy-MM-dd HH:mm} UTC; load {LoadBefore} -> {LoadAfter}",
        $"pgbench -s {Settings.Scale} -c {Settings.Clients} for {Settings.Duration.TotalSeconds:F0} s: {PgbenchTps}; WAL written {WalBytes / 1e6:F1} MB ({WalBytes / 1e6 / Settings.Duration.TotalSeconds:F2} MB/s)",
        $"samples asked every {Settings.SampleInterval.TotalMilliseconds:F0} ms, taken every {MeanSpacingMs:F0} ms on average (each opens a connection; that is the exposure's resolution): {Samples} ({Unresolved} at the end not yet resolved); archiver restarts {ArchiverRestarts}",
        "",
        "| | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|",
        $"| exposure: written -> stored by the archive (sampled, ms) | {Exposure.P50Ms:F0} | {Exposure.P90Ms:F0} | {Exposure.P99Ms:F0} | {Exposure.MaxMs:F0} |",
        $"| primary's flush_lag for the archiver (ms) | {FlushLag.P50Ms:F2} | {FlushLag.P90Ms:F2} | {FlushLag.P99Ms:F2} | {FlushLag.MaxMs:F2} |",
        "",
        $"samples stored within 1 s: {WithinOneSecond} of {Exposure.Count} ({(Exposure.Count == 0 ? 0 : 100.0 * WithinOneSecond / Exposure.Count):F2} %)");
}
