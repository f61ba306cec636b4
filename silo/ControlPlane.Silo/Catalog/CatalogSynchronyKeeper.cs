using System.Diagnostics.Metrics;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Silo.Catalog;

/// <summary>What the catalog primary's silo last saw of its standby (for the catalog status and the metric).</summary>
/// <param name="Primary">The catalog instance this silo runs as primary.</param>
/// <param name="StandbyState">The standby's sync_state while it streams; null while it does not.</param>
/// <param name="Verdict">The last <see cref="CatalogSynchronyPolicy"/> reason.</param>
internal sealed record CatalogSynchronyReading(string Primary, string? StandbyState, bool WaitsForStandby, DateTimeOffset? DegradedSince, string Verdict, DateTimeOffset At);

/// <summary>
/// On a silo that runs a catalog instance: while that instance is the catalog's primary and has a synchronous standby,
/// applies <see cref="CatalogSynchronyPolicy"/> every check. The decision to stop waiting for the standby is persisted
/// in the manifest (under its lock, and only while the manifest still names this instance primary) before the primary
/// is told, so the standby's promoter, which reads the same manifest under the same lock, never promotes a standby
/// that may lack an acknowledged write.
/// </summary>
internal sealed class CatalogSynchronyKeeper : BackgroundService
{
    private readonly EmbeddedInstances instances;
    private readonly IOptions<ControlPlaneOptions> options;
    private readonly TimeProvider clock;
    private readonly ILogger<CatalogSynchronyKeeper> logger;
    private readonly Meter _meter;

    public CatalogSynchronyKeeper(
        EmbeddedInstances instances, IOptions<ControlPlaneOptions> options, TimeProvider clock, IMeterFactory meters,
        ILogger<CatalogSynchronyKeeper> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        this.instances = instances;
        this.options = options;
        this.clock = clock;
        this.logger = logger;
        _meter = meters.Create(CatalogHealth.MeterName);
        // Reported by the silo that runs the catalog primary only; no measurement elsewhere.
        _meter.CreateObservableGauge("controlplane.catalog.synchronous_degraded",
            () => _reading is { } r ? [new Measurement<int>(r.DegradedSince is null ? 0 : 1)] : Array.Empty<Measurement<int>>(),
            description: "1 while the catalog standby may lack acknowledged writes (the primary commits without it; it is not promoted), 0 while synchronous.");
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    private const string Observe = """
        SELECT pg_is_in_recovery(),
               current_setting('synchronous_standby_names'),
               (SELECT sync_state FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming' LIMIT 1),
               (SELECT flush_lsn::text FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming' LIMIT 1),
               CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
               (SELECT extract(epoch FROM clock_timestamp() - reply_time)::float8 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming' LIMIT 1)
        """;

    /// <summary>
    /// A standby replies at least every <c>wal_receiver_status_interval</c> (1 s, InstanceConfig); one silent for longer
    /// than this is away although its WAL sender still says streaming, which it does until wal_sender_timeout (5 s).
    /// </summary>
    private static readonly TimeSpan SilentAfter = TimeSpan.FromSeconds(3);

    private DateTimeOffset? _peerAwaySince;
    private Lsn? _catchUpTarget;
    private string _lastReason = "";
    private volatile CatalogSynchronyReading? _reading;

    /// <summary>The last reading, while this silo runs the catalog primary with a standby; null otherwise.</summary>
    public CatalogSynchronyReading? Reading => _reading;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var drivers = new[] { instances.Catalog?.Driver, instances.CatalogStandby?.Driver }.OfType<LocalInstanceDriver>().ToList();
        if (drivers.Count == 0 || instances.CatalogDirectory is not { } directory) return;
        var manifestPath = Path.Combine(directory, CatalogInstance.ManifestFile);
        using var timer = new PeriodicTimer(options.Value.Catalog.CheckInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var acted = false;
                    foreach (var driver in drivers) acted |= await KeepAsync(driver, manifestPath, stoppingToken);
                    if (!acted) _reading = null;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning("Catalog synchrony check failed: {Error}", CatalogErrors.Clean(ex.Message));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One check of one instance this silo runs; false when it is not the catalog primary with a standby.</summary>
    private async Task<bool> KeepAsync(LocalInstanceDriver driver, string manifestPath, CancellationToken ct)
    {
        if (!driver.PostmasterExists()) return false;
        var manifest = await CatalogManifest.ReadAsync(manifestPath, ct);
        if (manifest is null || manifest.PrimaryName != driver.Name || manifest.Standbys is not { Count: > 0 }) return false;
        var peer = driver.Name == CatalogInstance.PrimaryName ? CatalogStandby.Name : CatalogInstance.PrimaryName;
        var seen = await ObserveAsync(driver.Endpoint, peer, ct);
        if (seen is null || seen.InRecovery) return false;

        var now = clock.GetUtcNow();
        if (seen.PeerState is not null && seen.PeerSilence > SilentAfter)
        {
            // Frozen, or its host cut off: away since its last reply, not since the WAL sender noticed.
            _peerAwaySince ??= now - seen.PeerSilence;
            seen = seen with { PeerState = null };
        }
        else if (seen.PeerState is null) _peerAwaySince ??= now;
        else _peerAwaySince = null;
        // The catch-up target is where the primary's WAL stood once the standby was synchronous again: every write
        // acknowledged while it was not lies before it.
        if (seen.PeerState is "sync" or "quorum" && seen.NamesSet && manifest.SynchronousDegradedSince is not null) _catchUpTarget ??= seen.Current;
        else _catchUpTarget = null;
        var caughtUp = _catchUpTarget is { } target && seen.PeerFlush is { } flush && flush >= target;

        var settings = options.Value.Catalog;
        var verdict = CatalogSynchronyPolicy.Decide(new CatalogSynchronyView(
            manifest.Asynchronous, settings.SynchronousStrict, seen.NamesSet, seen.PeerState, caughtUp, _peerAwaySince, now,
            settings.SynchronousDegradeAfter, manifest.SynchronousDegradedSince));
        if (verdict.Reason != _lastReason && verdict.Action == CatalogSynchronyAction.Keep)
        {
            logger.LogInformation("Catalog synchrony: {Reason}", verdict.Reason);
        }
        _lastReason = verdict.Reason;
        var degradedSince = verdict.Action switch
        {
            CatalogSynchronyAction.Degrade => await DegradeAsync(driver, manifestPath, verdict.Reason, seen.NamesSet, ct),
            CatalogSynchronyAction.Resynchronize => await ResynchronizeAsync(driver, manifest, verdict.Reason, ct),
            CatalogSynchronyAction.ConfirmSynchronous => await ConfirmAsync(driver, manifestPath, manifest, verdict.Reason, ct),
            _ => manifest.SynchronousDegradedSince,
        };
        _reading = new CatalogSynchronyReading(driver.Name, seen.PeerState,
            verdict.Action switch { CatalogSynchronyAction.Degrade => false, CatalogSynchronyAction.Resynchronize => true, _ => seen.NamesSet },
            degradedSince, verdict.Reason, now);
        return true;
    }

    private async Task<DateTimeOffset?> DegradeAsync(LocalInstanceDriver driver, string manifestPath, string reason, bool namesSet, CancellationToken ct)
    {
        using (await CatalogManifest.LockAsync(manifestPath, ct))
        {
            var now = clock.GetUtcNow();
            // Persisted first, and only while this instance is still the one the manifest names: a standby promoted in
            // the meantime leaves this primary's commits waiting (they can never be acknowledged again, as fencing needs).
            var current = await CatalogManifest.ReadAsync(manifestPath, ct);
            if (current is null || current.PrimaryName != driver.Name) return current?.SynchronousDegradedSince;
            var decided = await CatalogManifest.UpdateLockedAsync(manifestPath,
                m => m with { SynchronousDegradedSince = m.SynchronousDegradedSince ?? now, SynchronousDegradedReason = reason }, ct);
            if (namesSet)
            {
                logger.LogError("ALERT catalog synchronous replication degraded: {Reason}; the catalog primary {Name} commits without its standby, which is not promoted until it is synchronous and caught up again",
                    reason, driver.Name);
                await SqlFailoverOps.SetSynchronousStandbyNamesAsync(driver.Endpoint, SynchronousStandbyNames.None, ct);
            }
            else
            {
                logger.LogWarning("Catalog synchronous replication marked degraded: {Reason}", reason);
            }
            return decided.SynchronousDegradedSince;
        }
    }

    private async Task<DateTimeOffset?> ResynchronizeAsync(LocalInstanceDriver driver, CatalogManifest manifest, string reason, CancellationToken ct)
    {
        logger.LogWarning("Catalog synchronous replication restored: {Reason}; the catalog primary {Name} waits for it again", reason, driver.Name);
        await SqlFailoverOps.SetSynchronousStandbyNamesAsync(driver.Endpoint, CatalogStandby.SynchronousNames, ct);
        return manifest.SynchronousDegradedSince;
    }

    private async Task<DateTimeOffset?> ConfirmAsync(LocalInstanceDriver driver, string manifestPath, CatalogManifest manifest, string reason, CancellationToken ct)
    {
        using (await CatalogManifest.LockAsync(manifestPath, ct))
        {
            var current = await CatalogManifest.ReadAsync(manifestPath, ct);
            if (current is null || current.PrimaryName != driver.Name) return current?.SynchronousDegradedSince;
            await CatalogManifest.UpdateLockedAsync(manifestPath, m => m with { SynchronousDegradedSince = null, SynchronousDegradedReason = null }, ct);
        }
        logger.LogWarning("The catalog standby is synchronous again after a degradation since {Since:u}: {Reason}", manifest.SynchronousDegradedSince, reason);
        _catchUpTarget = null;
        return null;
    }

    private sealed record Observation(bool InRecovery, bool NamesSet, string? PeerState, Lsn? PeerFlush, Lsn? Current, TimeSpan PeerSilence);

    /// <summary>The instance's role and its standby's replication, or null when it does not answer within the check timeout.</summary>
    private async Task<Observation?> ObserveAsync(ReplicaEndpoint endpoint, string peer, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.Catalog.CheckTimeout);
        try
        {
            await using var source = InspectorDataSource.Create(endpoint, "controlplane-catalog-synchrony", options.Value.Catalog.CheckTimeout);
            await using var connection = await source.OpenConnectionAsync(timeout.Token);
            await using var command = new NpgsqlCommand(Observe, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = peer });
            await using var reader = await command.ExecuteReaderAsync(timeout.Token);
            if (!await reader.ReadAsync(timeout.Token)) return null;
            return new Observation(
                reader.GetBoolean(0), reader.GetString(1).Trim().Length > 0,
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : Lsn.Parse(reader.GetString(3)),
                reader.IsDBNull(4) ? null : Lsn.Parse(reader.GetString(4)),
                reader.IsDBNull(5) ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(5))));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or System.Net.Sockets.SocketException
                                   || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }
}
