using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// Before an old primary is rewound or rebuilt, the WAL it wrote past the new primary's fork is saved and decoded
/// (issue 21 mode 8): pg_rewind and a base backup both throw it away, and it holds the commits its clients were told
/// succeeded but that no standby received. Saved to <c>&lt;tier dir&gt;/divergent/&lt;replica&gt;-tl&lt;N&gt;-&lt;fork&gt;/</c>:
/// the segment files, <c>waldump.txt</c> (pg_waldump over the range) and <c>report.json</c>, written last and moved
/// into place in one rename, so a directory with a report is complete. A save found complete is reused, never redone
/// over WAL a half-finished rewind may have changed: a silo killed between the save and the rewind redoes nothing.
/// </summary>
public sealed partial class LocalInstanceDriver
{
    public const string DivergentDirectoryName = "divergent";
    public const string DivergenceReportFile = "report.json";
    public const string DivergenceDumpFile = "waldump.txt";

    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Where this tier's divergent WAL is saved: <c>divergent/</c> beside the tier's replica directories.</summary>
    public string DivergentDirectory => Path.Combine(Path.GetDirectoryName(InstanceDirectory)!, DivergentDirectoryName);

    /// <summary>
    /// Saves and decodes the WAL this stopped instance holds past the fork of <paramref name="source"/>'s timeline
    /// from its own; null when it holds none, or when no fork can be told (the reason is logged). Throws when WAL
    /// past the fork exists but cannot be saved: the caller must not rewind then.
    /// </summary>
    public async Task<DivergentWal?> SaveDivergentWalAsync(ReplicaEndpoint newPrimary, SourceTimeline source, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(newPrimary);
        ArgumentNullException.ThrowIfNull(source);
        var walDirectory = Path.Combine(DataDirectory, "pg_wal");
        var timeline = Directory.Exists(walDirectory)
            ? DivergencePlanner.LatestTimeline(Directory.EnumerateFiles(walDirectory).Select(f => Path.GetFileName(f)))
            : null;
        if (timeline is null)
        {
            logger.LogWarning("{Tier}/{Replica} has no WAL segment in {Directory}: no divergent WAL to save", Tier, Name, walDirectory);
            return null;
        }
        var (fork, why) = DivergencePlanner.Fork(timeline.Value, source);
        if (fork is null)
        {
            logger.LogWarning("Divergent WAL of {Tier}/{Replica} not saved: {Reason}", Tier, Name, why);
            return null;
        }
        var target = Path.Combine(DivergentDirectory, DivergencePlanner.DirectoryName(Name, fork));
        var reportFile = Path.Combine(target, DivergenceReportFile);
        if (File.Exists(reportFile))
        {
            var saved = JsonSerializer.Deserialize<DivergentWal>(await File.ReadAllTextAsync(reportFile, ct).ConfigureAwait(false), ReportJson)
                ?? throw new InvalidDataException($"'{reportFile}' holds no divergence report");
            logger.LogWarning("Divergent WAL of {Tier}/{Replica} was already saved to {Directory}: {Summary}", Tier, Name, target, saved.Summary);
            return saved;
        }

        var dump = await ProcessRunner.RunAsync(
            PgSpec("pg_waldump", ["-p", walDirectory, "-t", timeline.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), "-s", fork.SwitchPoint.ToString()],
                TimeSpan.FromMinutes(5)), ct).ConfigureAwait(false);
        var records = WalDump.Parse(dump.StandardOutput);
        if (records.Count == 0)
        {
            logger.LogInformation("{Tier}/{Replica} holds no WAL past the fork at {Fork} on timeline {Timeline} ({Said})",
                Tier, Name, fork.SwitchPoint, fork.Timeline, dump.StandardError.Trim());
            return null;
        }
        var control = await ReadControlDataAsync(ct).ConfigureAwait(false);
        var end = records[^1].End;
        var segments = DivergencePlanner.Segments(fork.Timeline, fork.SwitchPoint, end, control.WalSegmentBytes);
        var names = await NameRelationsAsync(newPrimary, records, ct).ConfigureAwait(false);
        var (transactions, outside) = DivergencePlanner.Summarise(records, names);
        var report = new DivergentWal(Name, fork.Timeline, fork.SwitchPoint, end, newPrimary.Name, source.Timeline, target, segments,
            records.Count, (long)(end.Value - fork.SwitchPoint.Value), outside, transactions, DateTimeOffset.UtcNow);

        // Everything goes to a scratch directory first; the rename publishes it whole.
        var scratch = target + ".saving";
        if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        Directory.CreateDirectory(scratch);
        foreach (var segment in segments)
        {
            var from = Path.Combine(walDirectory, segment);
            if (File.Exists(from)) File.Copy(from, Path.Combine(scratch, segment));
            else logger.LogWarning("Divergent WAL segment {Segment} of {Tier}/{Replica} is missing from {Directory}", segment, Tier, Name, walDirectory);
        }
        await File.WriteAllTextAsync(Path.Combine(scratch, DivergenceDumpFile), dump.StandardOutput + dump.StandardError, ct).ConfigureAwait(false);
        await using (var file = new FileStream(Path.Combine(scratch, DivergenceReportFile), FileMode.CreateNew, FileAccess.Write))
        {
            await JsonSerializer.SerializeAsync(file, report, ReportJson, ct).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
        }
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.Move(scratch, target);
        logger.LogWarning("Saved the divergent WAL of {Tier}/{Replica} to {Directory} before rejoining {Primary}: {Summary}",
            Tier, Name, target, newPrimary.Name, report.Summary);
        return report;
    }

    private async Task<IReadOnlyDictionary<RelFileNode, string>> NameRelationsAsync(ReplicaEndpoint newPrimary, IReadOnlyList<WalRecord> records, CancellationToken ct)
    {
        try
        {
            return await DivergentRelations.NameAsync(newPrimary, records.SelectMany(r => r.Relations), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            logger.LogWarning("Could not name the relations of {Tier}/{Replica}'s divergent WAL on {Primary}: {Error}", Tier, Name, newPrimary.Name, e.Message);
            return new Dictionary<RelFileNode, string>();
        }
    }
}
