namespace ControlPlane.Grains.Failover;

/// <summary>
/// A primary that keeps crashing (issue 21, mode 3). Pure.
///
/// <para>PostgreSQL restarts its own server in place after a crash (<c>restart_after_crash</c>, on by default): a
/// backend killed by a signal, a PANIC (a full pg_wal, a corrupt page, an out-of-memory kill). The postmaster never
/// stops listening, so the control plane sees only a few failed probes; a restart faster than the probe window never
/// fails the tier over, and a primary that crashes every minute would be kept for ever. The replica counts restarts
/// (its server's processes started anew under the same postmaster); <see cref="FailoverSettings.CrashLoopCount"/>
/// of them within <see cref="FailoverSettings.CrashLoopWindow"/> (3 in 5 minutes by default) make a crash loop: the
/// primary is failed over, and the fence (SIGKILL of every process) ends PostgreSQL's own restarts. A standby that
/// crashes as often is never promoted.</para>
/// </summary>
public static class CrashLoopPolicy
{
    /// <summary>How many of <paramref name="crashes"/> fall within <paramref name="window"/> before <paramref name="now"/>.</summary>
    public static int CountWithin(IEnumerable<DateTimeOffset> crashes, DateTimeOffset now, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(crashes);
        return crashes.Count(at => at <= now && now - at <= window);
    }

    /// <summary>The evidence that the primary is in a crash loop, or null.</summary>
    public static IReadOnlyList<string>? PrimaryEvidence(ReplicaFacts primary, FailoverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(settings);
        if (!Looping(primary, settings)) return null;
        return
        [
            $"crash loop: primary {primary.Name} crashed and was restarted in place by PostgreSQL {primary.RecentCrashes} times within {Window(settings)} "
                + $"(crash_loop_count {settings.CrashLoopCount}); not letting it restart again",
        ];
    }

    /// <summary>Why a standby may not be promoted for crashing as often, or null.</summary>
    public static string? Ineligibility(ReplicaFacts standby, FailoverSettings settings)
    {
        ArgumentNullException.ThrowIfNull(standby);
        ArgumentNullException.ThrowIfNull(settings);
        return Looping(standby, settings)
            ? $"it is in a crash loop: restarted in place {standby.RecentCrashes} times within {Window(settings)}"
            : null;
    }

    private static bool Looping(ReplicaFacts r, FailoverSettings settings) =>
        settings.CrashLoopCount > 0 && r.RecentCrashes >= settings.CrashLoopCount;

    private static string Window(FailoverSettings settings) =>
        settings.CrashLoopWindow.TotalMinutes >= 1 && settings.CrashLoopWindow.TotalSeconds % 60 == 0
            ? $"{settings.CrashLoopWindow.TotalMinutes:0} min"
            : $"{settings.CrashLoopWindow.TotalSeconds:0} s";
}
