using System.Globalization;
using System.Text;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Backups;

/// <summary>One backup, verification and restore by one tool; seconds are wall time, null when that step did not produce a figure.</summary>
/// <param name="StoredBytes">What the repository holds for this backup, WAL needed to restore it included.</param>
/// <param name="WalBytes">The part of <paramref name="StoredBytes"/> that is WAL.</param>
/// <param name="Verified">Whether the tool's own verification passed (null: the tool has none, or it did not run).</param>
public sealed record BackupRun(
    int Run, int Order, double? BackupSeconds, double? VerifySeconds, double? RestoreSeconds, long? StoredBytes, long? WalBytes, bool? Verified, string Note)
{
    public bool Complete => BackupSeconds is not null && RestoreSeconds is not null && Verified is not false && Note.Length == 0;
}

/// <summary>Medians over one tool's runs (nearest rank), and what follows from them for this database.</summary>
public sealed record ToolSummary(
    string Tool, string Settings, int Runs, int Complete,
    double? BackupSeconds, double? ThroughputMBps, long? StoredBytes, long? WalBytes, double? CompressionRatio, double? RestoreSeconds, double? VerifySeconds,
    string? Skipped)
{
    public static ToolSummary Of(string tool, string settings, long databaseBytes, IReadOnlyList<BackupRun> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var backup = Median(runs.Select(r => r.BackupSeconds));
        var stored = Median(runs.Select(r => (double?)r.StoredBytes));
        return new ToolSummary(tool, settings, runs.Count, runs.Count(r => r.Complete),
            backup,
            backup is > 0 ? databaseBytes / 1e6 / backup.Value : null,
            stored is { } s ? (long)s : null,
            Median(runs.Select(r => (double?)r.WalBytes)) is { } w ? (long)w : null,
            stored is > 0 ? (double)databaseBytes / stored.Value : null,
            Median(runs.Select(r => r.RestoreSeconds)),
            Median(runs.Select(r => r.VerifySeconds)),
            null);
    }

    public static ToolSummary NotRun(string tool, string why) => new(tool, "", 0, 0, null, null, null, null, null, null, null, why);

    /// <summary>The nearest-rank median of the figures present (the lower middle one of an even count).</summary>
    public static double? Median(IEnumerable<double?> values)
    {
        var present = values.Where(v => v is not null).Select(v => v!.Value).Order().ToArray();
        return present.Length == 0 ? null : present[(present.Length - 1) / 2];
    }
}

/// <summary>
/// The whole run: one database, each tool's summary and runs, the machine and its load. <see cref="Render"/> puts the
/// tools side by side, one row per figure.
/// </summary>
public sealed record BackupsResult(
    MachineInfo Machine, string LoadBefore, string LoadAfter, string PostgresVersion, int Scale, int Repeat, DatabaseSize Size,
    IReadOnlyList<ToolSummary> Tools, IReadOnlyDictionary<string, IReadOnlyList<BackupRun>> Runs)
{
    public bool Complete => Tools.All(t => t.Skipped is not null || (t.Runs > 0 && t.Complete == t.Runs));

    public string Render()
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"backups benchmark on {Machine.Host} ({Machine.Processors} CPUs), {Machine.At:yyyy-MM-dd HH:mm} UTC; load {LoadBefore} -> {LoadAfter}");
        b.AppendLine(CultureInfo.InvariantCulture,
            $"PostgreSQL {PostgresVersion}; pgbench -i -s {Scale}: database {Mb(Size.DatabaseBytes)}, cluster {Mb(Size.ClusterBytes)}; {Repeat} run(s) per tool, alternating; medians (nearest rank); MB = 10^6 bytes");
        b.AppendLine();
        b.AppendLine("| | " + string.Join(" | ", Tools.Select(t => t.Tool)) + " |");
        b.AppendLine("|---|" + string.Concat(Tools.Select(_ => "---|")));
        Row(b, "settings", t => t.Skipped is null ? t.Settings : $"skipped: {t.Skipped}");
        Row(b, "runs complete", t => t.Skipped is null ? $"{t.Complete}/{t.Runs}" : "—");
        Row(b, "backup time", t => Seconds(t.BackupSeconds));
        Row(b, "throughput (database / backup time)", t => t.ThroughputMBps is { } v ? F($"{v:F1} MB/s") : "—");
        Row(b, "stored (backup + its WAL)", t => t.StoredBytes is { } v ? Mb(v) : "—");
        Row(b, "of which WAL", t => t.WalBytes is { } v ? Mb(v) : "—");
        Row(b, "compression ratio (database / stored)", t => t.CompressionRatio is { } v ? F($"{v:F2}") : "—");
        Row(b, "restore to writable", t => Seconds(t.RestoreSeconds));
        Row(b, "verification", t => Seconds(t.VerifySeconds));
        foreach (var (tool, runs) in Runs)
        {
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"{tool}:");
            foreach (var r in runs)
            {
                b.AppendLine(CultureInfo.InvariantCulture,
                    $"  #{r.Run} ({(r.Order == 0 ? "first" : "second")} in its round): backup {Seconds(r.BackupSeconds)}, stored {(r.StoredBytes is { } s ? Mb(s) : "—")} (WAL {(r.WalBytes is { } w ? Mb(w) : "—")}), verify {Seconds(r.VerifySeconds)} ({Verdict(r.Verified)}), restore {Seconds(r.RestoreSeconds)}{(r.Note.Length > 0 ? "  " + r.Note : "")}");
            }
        }
        return b.ToString();
    }

    private void Row(StringBuilder b, string name, Func<ToolSummary, string> cell) =>
        b.AppendLine($"| {name} | " + string.Join(" | ", Tools.Select(cell)) + " |");

    private static string Verdict(bool? verified) => verified switch { true => "passed", false => "FAILED", null => "n/a" };

    private static string Seconds(double? s) => s is { } v ? F($"{v:F2} s") : "—";

    private static string Mb(long bytes) => F($"{bytes / 1e6:F1} MB");

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One run's figures as they come in, so a run failing half-way still reports what it measured.</summary>
public sealed class RunFigures(int run, int order)
{
    public double? BackupSeconds { get; set; }
    public double? VerifySeconds { get; set; }
    public double? RestoreSeconds { get; set; }
    public long? StoredBytes { get; set; }
    public long? WalBytes { get; set; }
    public bool? Verified { get; set; }

    public BackupRun Done() => Run("");

    /// <summary>The figures so far, and the failure's first line as the note.</summary>
    public BackupRun Failed(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Run($"failed: {e.Message.Split('\n')[0]}");
    }

    private BackupRun Run(string note) => new(run, order, BackupSeconds, VerifySeconds, RestoreSeconds, StoredBytes, WalBytes, Verified, note);
}
