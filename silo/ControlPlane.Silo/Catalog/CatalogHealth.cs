using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using ControlPlane.Grains.Failover;

namespace ControlPlane.Silo.Catalog;

/// <summary>What this silo knows about its catalog right now (one immutable reading).</summary>
/// <param name="Reachable">The last checks answered (see <see cref="CatalogReachability"/> for when it flips).</param>
/// <param name="Since">When <paramref name="Reachable"/> last changed (the silo's start for the first reading).</param>
/// <param name="LastError">The last failed check's error, password-free; empty when none failed yet.</param>
/// <param name="ConsecutiveFailures">Checks in a row that failed.</param>
/// <param name="Restarts">Restarts of the embedded catalog by this silo since it started.</param>
/// <param name="CrashLoop">The crash-loop alert: too many crashes within the window (docs/catalog.md).</param>
/// <param name="RecentCrashes">Crashes within the crash-loop window.</param>
internal sealed record CatalogStatus(
    bool Reachable, DateTimeOffset Since, string LastError, DateTimeOffset? LastCheck, int ConsecutiveFailures,
    bool Embedded, string Endpoint, int Restarts, DateTimeOffset? LastRestart, bool CrashLoop, int RecentCrashes)
{
    /// <summary>When the current run of failed checks began; null while the last check succeeded.</summary>
    public DateTimeOffset? FailingSince { get; init; }
}

/// <summary>
/// How one check changes reachability, pure. One success makes the catalog reachable; it takes
/// <c>unreachableAfter</c> failures in a row to call it unreachable, so a single slow check on a loaded host does not
/// refuse commands.
/// </summary>
internal static class CatalogReachability
{
    public static CatalogStatus Next(CatalogStatus current, bool ok, string error, DateTimeOffset now, int unreachableAfter)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (ok)
        {
            return current with
            {
                Reachable = true, Since = current.Reachable ? current.Since : now, LastCheck = now, ConsecutiveFailures = 0, FailingSince = null,
            };
        }
        var failures = current.ConsecutiveFailures + 1;
        // The outage began with the first failed check of the run, not when the threshold was crossed.
        var failingSince = current.FailingSince ?? now;
        var reachable = current.Reachable && failures < Math.Max(1, unreachableAfter);
        return current with
        {
            Reachable = reachable,
            Since = reachable == current.Reachable ? current.Since : failingSince,
            LastError = CatalogErrors.Clean(error),
            LastCheck = now,
            ConsecutiveFailures = failures,
            FailingSince = failingSince,
        };
    }
}

/// <summary>
/// What a change of the silo's reachability tells the grains' writes (<see cref="CatalogWriteStatus"/>). Only the
/// transitions speak: unreachable marks the grains' writes down at once, so no decision taken from then on waits out a
/// write deadline; reachable again lets the next write try the catalog (each grain's background flush retries anyway).
/// A grain's own write that goes through or fails in between is left to say so itself.
/// </summary>
internal static class CatalogWriteSignal
{
    public static void Apply(CatalogStatus before, CatalogStatus after, CatalogWriteStatus writes)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(writes);
        if (before.Reachable && !after.Reachable) writes.Down(after.Since);
        else if (!before.Reachable && after.Reachable) writes.Up();
    }
}

/// <summary>Error texts fit for people: one line, bounded, and never a password even if a driver echoed one.</summary>
internal static partial class CatalogErrors
{
    public static string Clean(string error)
    {
        var text = PasswordPattern().Replace(error ?? "", "password=***").ReplaceLineEndings(" ").Trim();
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    [GeneratedRegex(@"(?i)password\s*=\s*[^;\s]*")]
    private static partial Regex PasswordPattern();
}

/// <summary>
/// The catalog's reachability as a fact of this silo: fed by the <see cref="CatalogSupervisor"/>'s own short checks,
/// read by the gateway (commands refused, token cache served, health), the catalog RPC and the metrics, and passed on
/// to the grains' <see cref="CatalogWriteStatus"/> (<see cref="CatalogWriteSignal"/>).
/// </summary>
internal sealed class CatalogHealth : IDisposable, ControlPlane.Grains.Catalog.ICatalogVantagePoint
{
    public const string MeterName = "ControlPlane.Catalog";

    private readonly Lock _lock = new();
    private readonly Meter _meter;
    private readonly TimeProvider _clock;
    private readonly CatalogWriteStatus? _writes;
    private CatalogStatus _status;

    public CatalogHealth(IMeterFactory meters, bool embedded, string endpoint, TimeProvider clock, CatalogWriteStatus? writes = null)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _clock = clock;
        _writes = writes;
        // Start-up migrated the catalog just before: it was reachable then.
        _status = new CatalogStatus(true, clock.GetUtcNow(), "", null, 0, embedded, endpoint, 0, null, false, 0);
        _meter.CreateObservableGauge("controlplane.catalog.up", () => Current.Reachable ? 1 : 0,
            description: "1 while this silo reaches its catalog, 0 while it is unreachable (commands are refused then).");
        _meter.CreateObservableCounter("controlplane.catalog.restarts", () => (long)Current.Restarts,
            description: "Restarts of the embedded catalog by this silo's supervisor since the silo started.");
        _meter.CreateObservableGauge("controlplane.catalog.crash_loop", () => Current.CrashLoop ? 1 : 0,
            description: "1 while the embedded catalog crashed too often within the crash-loop window.");
    }

    public CatalogStatus Current
    {
        get
        {
            lock (_lock) return _status;
        }
    }

    public bool IsReachable => Current.Reachable;

    /// <inheritdoc/>
    public bool ReachesCatalog => Current.Reachable;

    /// <summary>Records one reachability check; returns the reading before and after it.</summary>
    public (CatalogStatus Before, CatalogStatus After) ReportCheck(bool ok, string error, int unreachableAfter)
    {
        lock (_lock)
        {
            var before = _status;
            _status = CatalogReachability.Next(before, ok, error, _clock.GetUtcNow(), unreachableAfter);
            if (_writes is not null) CatalogWriteSignal.Apply(before, _status, _writes);
            return (before, _status);
        }
    }

    public void ReportRestart()
    {
        lock (_lock) _status = _status with { Restarts = _status.Restarts + 1, LastRestart = _clock.GetUtcNow() };
    }

    public void ReportCrashes(int recent, bool crashLoop)
    {
        lock (_lock) _status = _status with { RecentCrashes = recent, CrashLoop = crashLoop };
    }

    /// <summary>The message a refused command gets while the catalog is unreachable.</summary>
    public static string CommandsRefused(CatalogStatus status) =>
        $"the catalog is unreachable since {status.Since:u}: commands are refused until it returns; queries and watches still answer.";

    public void Dispose() => _meter.Dispose();
}
