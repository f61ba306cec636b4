using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Grains.Hardening;

public static partial class HardeningChecks
{
    private static readonly string[] StatementLevels = ["ddl", "mod", "all"];

    /// <summary>log_line_prefix must say when (%m or %t or %n), which process (%p), who (%u) and where (%d).</summary>
    internal static IEnumerable<string> MissingPrefixEscapes(string prefix)
    {
        if (!prefix.Contains("%m", StringComparison.Ordinal) && !prefix.Contains("%t", StringComparison.Ordinal) && !prefix.Contains("%n", StringComparison.Ordinal)) yield return "%m";
        foreach (var escape in new[] { "%p", "%u", "%d" })
            if (!prefix.Contains(escape, StringComparison.Ordinal)) yield return escape;
    }

    private static IEnumerable<HardeningCheck> Logging =>
    [
        new("CP-LOG-01", "Connections are logged", CheckSeverity.Medium, "log_connections = on",
            "Who connected, from where, is the first question of any incident review.",
            "ALTER SYSTEM SET log_connections = on; reload (applies to new sessions).",
            (f, _) => Setting(f, "log_connections", IsOn)),
        new("CP-LOG-02", "Disconnections are logged", CheckSeverity.Medium, "log_disconnections = on",
            "Session ends with their duration complete the connection trail.",
            "ALTER SYSTEM SET log_disconnections = on; reload.",
            (f, _) => Setting(f, "log_disconnections", IsOn)),
        new("CP-LOG-03", "Schema changes are logged", CheckSeverity.Medium, "log_statement = ddl (or mod, all)",
            "DDL changes who can do what and where data lives; it must leave a trace.",
            "ALTER SYSTEM SET log_statement = 'ddl'; reload.",
            (f, _) => Setting(f, "log_statement", v => StatementLevels.Contains(v, StringComparer.Ordinal))),
        new("CP-LOG-04", "Log lines say when, which process, who and where", CheckSeverity.Low, "log_line_prefix with a time (%m), %p, %u and %d",
            "A log line that does not name its time, session, user and database cannot be attributed.",
            "ALTER SYSTEM SET log_line_prefix = '%m [%p] %q%u@%d '; reload.",
            (f, _) => f.Setting("log_line_prefix") is { } p
                ? Verdict.When(!MissingPrefixEscapes(p).Any(), $"log_line_prefix = '{p}'" + (MissingPrefixEscapes(p).Any() ? $" lacks {string.Join(' ', MissingPrefixEscapes(p))}" : ""))
                : Verdict.Unknown("log_line_prefix cannot be read by this login")),
        new("CP-LOG-05", "pgaudit is loaded when the policy requires it", CheckSeverity.Medium, "pgaudit in shared_preload_libraries when RequirePgAudit",
            "Statement logging does not say which objects a statement touched; pgaudit does, as compliance regimes often require.",
            "Install pgaudit, add it to shared_preload_libraries (restart), CREATE EXTENSION pgaudit; set pgaudit.log.",
            (f, c) => !c.Expectations.RequirePgAudit
                ? Verdict.Pass("not required by policy (RequirePgAudit = false)")
                : Setting(f, "shared_preload_libraries", v => v.Split(',', StringSplitOptions.TrimEntries).Contains("pgaudit", StringComparer.Ordinal))),
        new("CP-LOG-06", "Checkpoints are logged", CheckSeverity.Low, "log_checkpoints = on",
            "Checkpoint timing explains I/O stalls and how long crash recovery will take.",
            "ALTER SYSTEM SET log_checkpoints = on; reload.",
            (f, _) => Setting(f, "log_checkpoints", IsOn)),
        new("CP-LOG-07", "Errors reach the log", CheckSeverity.Low, "log_min_messages at warning or more detailed; log_min_error_statement at error or more detailed",
            "Raising these thresholds hides failed statements and server problems from the log.",
            "ALTER SYSTEM SET log_min_messages = 'warning'; ALTER SYSTEM SET log_min_error_statement = 'error'; reload.",
            (f, _) => f.Setting("log_min_messages") is { } m && f.Setting("log_min_error_statement") is { } e
                ? Verdict.When(LogLevelAtMost(m, "warning") && LogLevelAtMost(e, "error"), $"log_min_messages = '{m}', log_min_error_statement = '{e}'")
                : Verdict.Unknown("log_min_messages or log_min_error_statement cannot be read by this login")),
    ];

    private static readonly string[] LogLevels = ["debug5", "debug4", "debug3", "debug2", "debug1", "info", "notice", "warning", "error", "log", "fatal", "panic"];

    private static bool LogLevelAtMost(string value, string limit) =>
        Array.IndexOf(LogLevels, value) is var i and >= 0 && i <= Array.IndexOf(LogLevels, limit);
}
