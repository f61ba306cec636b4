using System.CommandLine;
using ControlPlane.Protos.V1;
using Duration = Google.Protobuf.WellKnownTypes.Duration;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// The options of <c>cpctl backup policy TIER</c>. Only the options given become set fields of the patch: the server
/// keeps every field the request leaves unset, so a patch must never carry a default for an option not typed.
/// </summary>
internal sealed class PolicyOptions
{
    private readonly Option<string?> schedule = new("--schedule") { Description = "Cron of base backups (5 fields, UTC), e.g. \"0 3 * * *\"; \"\" for none", HelpName = "CRON" };
    private readonly Option<int?> keepLast = BackupArguments.Whole("--keep-last", "Keep at least the newest N complete backups (0: no count rule)", min: 0);
    private readonly Option<TimeSpan?> recoveryWindow = BackupArguments.Duration("--recovery-window", "Keep what restore to any moment of this window needs, e.g. 7d (0: no window rule)");
    private readonly Option<string?> source = new("--source") { Description = "Take backups from the primary or the best standby", HelpName = "primary|best-standby" };
    private readonly Option<string?> verify = BackupArguments.Switch("--verify", "Verify each backup with pg_verifybackup");
    private readonly Option<string?> drillSchedule = new("--drill-schedule") { Description = "Cron of restore drills (5 fields, UTC); \"\" for none", HelpName = "CRON" };
    private readonly Option<TimeSpan?> rpoTarget = BackupArguments.Duration("--rpo-target", "Most WAL time the tier may lose, e.g. 1s");
    private readonly Option<TimeSpan?> rtoTarget = BackupArguments.Duration("--rto-target", "Longest a restore to a writable instance may take, e.g. 5m");
    private readonly Option<string?> repository = new("--repository") { Description = "Absolute directory of the primary repository", HelpName = "DIR" };
    private readonly Option<string?> secondRepository = new("--second-repository") { Description = "Absolute directory of a second repository (another region); \"\" for none", HelpName = "DIR" };
    private readonly Option<string?> compression = new("--compression") { Description = "Compression of base backups", HelpName = "lz4|zstd|gzip|none" };
    private readonly Option<int?> maxRate = BackupArguments.Whole("--max-rate-kbps", "pg_basebackup transfer limit in kB/s (0: unlimited)", min: 0);
    private readonly Option<string?> archiveWal = BackupArguments.Switch("--archive-wal", "Stream WAL continuously into the repository (needed for point-in-time restore)");

    public PolicyOptions()
    {
        source.AcceptOnlyFromAmong("primary", "best-standby");
        compression.AcceptOnlyFromAmong("lz4", "zstd", "gzip", "none");
        AbsoluteDirectory(repository, "--repository", allowEmpty: false);
        AbsoluteDirectory(secondRepository, "--second-repository", allowEmpty: true);
    }

    public void AddTo(Command command)
    {
        foreach (var option in All) command.Add(option);
    }

    /// <summary>The fields the command line sets, or null when it sets none (then the policy is only shown).</summary>
    public BackupPolicy? Patch(ParseResult parsed)
    {
        var patch = new BackupPolicy();
        if (parsed.GetValue(schedule) is { } s) patch.Schedule = s;
        if (parsed.GetValue(keepLast) is { } k) patch.KeepLast = k;
        if (parsed.GetValue(recoveryWindow) is { } w) patch.RecoveryWindow = Duration.FromTimeSpan(w);
        if (parsed.GetValue(source) is { } src) patch.Source = src == "best-standby" ? BackupSource.BestStandby : BackupSource.Primary;
        if (BackupArguments.SwitchValue(parsed.GetValue(verify)) is { } v) patch.Verify = v;
        if (parsed.GetValue(drillSchedule) is { } d) patch.DrillSchedule = d;
        if (parsed.GetValue(rpoTarget) is { } rpo) patch.RpoTarget = Duration.FromTimeSpan(rpo);
        if (parsed.GetValue(rtoTarget) is { } rto) patch.RtoTarget = Duration.FromTimeSpan(rto);
        if (parsed.GetValue(repository) is { } r) patch.Repository = r;
        if (parsed.GetValue(secondRepository) is { } r2) patch.SecondRepository = r2;
        if (parsed.GetValue(compression) is { } c) patch.Compression = c;
        if (parsed.GetValue(maxRate) is { } m) patch.MaxRateKbps = m;
        if (BackupArguments.SwitchValue(parsed.GetValue(archiveWal)) is { } a) patch.ArchiveWal = a;
        // Presence, not value: "--verify false" or "--keep-last 0" are changes though they equal the defaults.
        return All.Any(o => parsed.GetResult(o) is not null) ? patch : null;
    }

    private Option[] All => [schedule, keepLast, recoveryWindow, source, verify, drillSchedule, rpoTarget, rtoTarget, repository, secondRepository, compression, maxRate, archiveWal];

    private static void AbsoluteDirectory(Option<string?> option, string name, bool allowEmpty) => option.Validators.Add(r =>
    {
        var value = r.GetValueOrDefault<string?>();
        if (value is null || (allowEmpty && value.Length == 0) || Path.IsPathFullyQualified(value)) return;
        r.AddError($"{name} '{value}' is not an absolute directory path{(allowEmpty ? " (or \"\" for none)" : "")}.");
    });
}
