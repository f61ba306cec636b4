using System.Globalization;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// The recovery settings of a restore, rendered as postgresql.conf lines (appended to controlplane.conf). Pure.
/// </summary>
public static class RecoveryConfig
{
    /// <summary>
    /// A restore_command copying segment <c>%f</c> from <paramref name="walDirectory"/>, or, when only
    /// <c>%f.partial</c> is there, that: pg_receivewal keeps the segment it is writing as <c>.partial</c>, and
    /// recovery to the newest WAL needs it. The server runs it through <c>/bin/sh</c>, so the path is single-quoted
    /// for the shell; <c>%f</c> is a segment or history file name PostgreSQL generates (hex digits and a dot).
    /// </summary>
    public static string RestoreCommand(string walDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(walDirectory);
        // '%' is PostgreSQL's escape in this setting: a literal one in the path is written '%%'.
        var dir = ShellQuote(Path.GetFullPath(walDirectory)).Replace("%", "%%", StringComparison.Ordinal);
        return $"d={dir}; if [ -f \"$d/%f\" ]; then cp \"$d/%f\" \"%p\"; elif [ -f \"$d/%f.partial\" ]; then cp \"$d/%f.partial\" \"%p\"; else exit 1; fi";
    }

    /// <summary>
    /// The lines for a restore: restore_command, timeline <c>latest</c>, and the target with <c>promote</c> at the end,
    /// or (<paramref name="standby"/>) no target at all: a standby replays for ever.
    /// </summary>
    public static IReadOnlyList<string> Render(RecoveryTarget target, string walDirectory, bool standby)
    {
        ArgumentNullException.ThrowIfNull(target);
        List<string> lines =
        [
            "# Restore: recovery settings written by the control plane.",
            $"restore_command = {InstanceConfig.Quote(RestoreCommand(walDirectory))}",
            "recovery_target_timeline = 'latest'",
        ];
        if (standby) return lines;
        switch (target.Kind)
        {
            case RecoveryTargetKind.Latest:
                break;
            case RecoveryTargetKind.Immediate:
                lines.Add("recovery_target = 'immediate'");
                break;
            case RecoveryTargetKind.Time:
                var time = target.Time ?? throw new ArgumentException("A recovery target of kind Time needs Time.", nameof(target));
                // ISO 8601 with an explicit offset: the server reads it the same whatever its TimeZone setting.
                lines.Add($"recovery_target_time = {InstanceConfig.Quote(time.ToString("yyyy-MM-dd HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture))}");
                break;
            case RecoveryTargetKind.Lsn:
                var lsn = target.Lsn ?? throw new ArgumentException("A recovery target of kind Lsn needs Lsn.", nameof(target));
                lines.Add($"recovery_target_lsn = {InstanceConfig.Quote(new Lsn(lsn).ToString())}");
                break;
            case RecoveryTargetKind.RestorePoint:
                var name = string.IsNullOrEmpty(target.Name) ? throw new ArgumentException("A recovery target of kind RestorePoint needs Name.", nameof(target)) : target.Name;
                lines.Add($"recovery_target_name = {InstanceConfig.Quote(name)}");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(target), target.Kind, "Unknown recovery target kind.");
        }
        lines.Add("recovery_target_action = 'promote'");
        return lines;
    }

    /// <summary>
    /// postgresql.auto.conf of the backed-up instance without the settings a lone restored copy must not keep:
    /// <c>synchronous_standby_names</c> (no standby of the source will ever confirm its commits, so writes would
    /// hang) and <c>default_transaction_read_only</c> (a fenced source's).
    /// </summary>
    public static string StripAutoConf(string autoConf)
    {
        ArgumentNullException.ThrowIfNull(autoConf);
        var kept = autoConf.Split('\n').Where(line =>
        {
            var key = line.Split('=', 2)[0].Trim();
            return key is not ("synchronous_standby_names" or "default_transaction_read_only");
        });
        return string.Join('\n', kept);
    }

    /// <summary>A POSIX shell single-quoted word.</summary>
    internal static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
