namespace ControlPlane.Silo.Catalog;

/// <summary>What the supervisor saw on one check of the embedded catalog's postmaster.</summary>
/// <param name="PostmasterExists">
/// The pid in postmaster.pid is a live postgres process (running or stopped: a SIGSTOPped catalog still exists).
/// </param>
/// <param name="WasAlive">The previous check saw it alive (or a restart had just succeeded): its absence now is a new crash.</param>
/// <param name="FailedRestarts">Restart attempts in a row that failed since the catalog was last alive.</param>
/// <param name="LastAttempt">When the last restart attempt began.</param>
internal sealed record CatalogObservation(bool PostmasterExists, bool WasAlive, int FailedRestarts, DateTimeOffset? LastAttempt);

/// <summary>When crashes in a row become an alert: <see cref="Count"/> crashes within <see cref="Window"/>.</summary>
internal sealed record CrashLoopRule(int Count, TimeSpan Window)
{
    public static readonly CrashLoopRule Default = new(3, TimeSpan.FromMinutes(10));
}

internal enum CatalogAction
{
    /// <summary>The postmaster exists (perhaps stopped or slow): never touch it.</summary>
    None,
    /// <summary>The postmaster is gone: start the instance again (the stale postmaster.pid is removed by the driver).</summary>
    Restart,
    /// <summary>The postmaster is gone but the last restarts failed: wait out the back-off before the next one.</summary>
    Wait,
}

/// <summary>The supervisor's next step and the crash history to keep.</summary>
internal sealed record CatalogVerdict(CatalogAction Action, bool NewCrash, IReadOnlyList<DateTimeOffset> Crashes, bool CrashLoop);

/// <summary>
/// The restart decision for the embedded catalog, pure so it is unit-tested. Only a postmaster that no longer exists
/// is restarted: a catalog that is merely unreachable (stopped, overloaded, its network cut) still owns its data
/// directory and shared memory, and a second postmaster there would be refused at best. Every crash is remembered;
/// <see cref="CrashLoopRule.Count"/> of them within the window raise the crash-loop alert, which clears by itself
/// once the window slides past them. Restarts never stop (the catalog is needed), but failed ones back off.
/// </summary>
internal static class CatalogRestartPolicy
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public static CatalogVerdict Decide(CatalogObservation seen, IReadOnlyList<DateTimeOffset> crashes, DateTimeOffset now, CrashLoopRule rule)
    {
        ArgumentNullException.ThrowIfNull(seen);
        ArgumentNullException.ThrowIfNull(crashes);
        ArgumentNullException.ThrowIfNull(rule);
        var recent = crashes.Where(c => now - c < rule.Window).ToList();
        if (seen.PostmasterExists) return new CatalogVerdict(CatalogAction.None, false, recent, recent.Count >= rule.Count);

        var newCrash = seen.WasAlive;
        if (newCrash) recent.Add(now);
        var loop = recent.Count >= rule.Count;
        if (seen.FailedRestarts > 0 && seen.LastAttempt is { } last && now - last < Backoff(seen.FailedRestarts))
            return new CatalogVerdict(CatalogAction.Wait, newCrash, recent, loop);
        return new CatalogVerdict(CatalogAction.Restart, newCrash, recent, loop);
    }

    /// <summary>1 s after the first failed restart, doubling, at most <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan Backoff(int failedRestarts) =>
        failedRestarts <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(failedRestarts - 1, 10))));
}
