using ControlPlane.Postgres.Fleet;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// Watches the catalog every <see cref="CatalogOptions.CheckInterval"/>: when this silo runs the embedded catalog,
/// restarts it once its postmaster is gone (<see cref="CatalogRestartPolicy"/>); for any catalog, checks that a new
/// client gets in (a fresh, unpooled connection and SELECT 1 under a short timeout) and feeds
/// <see cref="CatalogHealth"/>. A fresh connection, not a pooled one: a pool can hold a connection to a server that
/// no longer accepts any, and the question is whether the providers' next connection will work.
/// </summary>
internal sealed class CatalogSupervisor(
    CatalogHealth health, EmbeddedInstances instances, Security.SecurityCatalog security, IOptions<ControlPlaneOptions> options,
    TimeProvider clock, ILogger<CatalogSupervisor> logger) : BackgroundService
{
    private readonly List<DateTimeOffset> _crashes = [];
    private bool _wasAlive = true;
    private int _failedRestarts;
    private DateTimeOffset? _lastAttempt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Catalog;
        var probe = ProbeConnectionString(instances.CatalogConnectionString, settings.CheckTimeout);
        using var timer = new PeriodicTimer(settings.CheckInterval, clock);
        try
        {
            do
            {
                if (instances.Catalog is { } catalog) await SuperviseAsync(catalog, settings, stoppingToken);
                if (instances.CatalogStandby is { } standby) await SuperviseStandbyAsync(standby, stoppingToken);
                await CheckAsync(probe, settings, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The silo stops: the catalog is stopped (or left alone) by EmbeddedInstances, not restarted.
        }
    }

    private async Task SuperviseAsync(CatalogInstance catalog, CatalogOptions settings, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var exists = catalog.Driver.PostmasterExists();
        var verdict = CatalogRestartPolicy.Decide(
            new CatalogObservation(exists, _wasAlive, _failedRestarts, _lastAttempt), _crashes, now,
            new CrashLoopRule(settings.CrashLoopCount, settings.CrashLoopWindow));
        _crashes.Clear();
        _crashes.AddRange(verdict.Crashes);
        var wasLoop = health.Current.CrashLoop;
        health.ReportCrashes(verdict.Crashes.Count, verdict.CrashLoop);
        if (verdict.CrashLoop && !wasLoop)
        {
            logger.LogError("ALERT catalog crash loop: the embedded catalog on port {Port} crashed {Count} times within {Window}; see its log {Log}",
                catalog.Driver.Port, verdict.Crashes.Count, settings.CrashLoopWindow, catalog.Driver.LogFile);
        }
        if (exists)
        {
            _wasAlive = true;
            _failedRestarts = 0;
            return;
        }
        if (verdict.NewCrash)
        {
            logger.LogError("The embedded catalog's postmaster is gone (port {Port}); restarting it", catalog.Driver.Port);
            health.ReportCheck(false, "the catalog's postmaster is gone (crashed or killed); the supervisor restarts it", settings.UnreachableAfter);
        }
        _wasAlive = false;
        if (verdict.Action != CatalogAction.Restart) return;

        _lastAttempt = now;
        try
        {
            // StartAsync removes the stale postmaster.pid a SIGKILL leaves and waits out orphaned backends. Fenced: once
            // the catalog standby was promoted, the old primary is rewound into its standby, never restarted as primary.
            await CatalogInstance.StartFencedAsync(catalog.Driver, instances.CatalogDirectory ?? options.Value.DataDirectory, logger, ct);
            _failedRestarts = 0;
            _wasAlive = true;
            health.ReportRestart();
            logger.LogWarning("The embedded catalog was restarted on port {Port} ({Restarts} restart(s) by this silo)", catalog.Driver.Port, health.Current.Restarts);
            ClearPools();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _failedRestarts++;
            logger.LogError("Restarting the embedded catalog failed (attempt {Attempt}; next in {Backoff}): {Error}",
                _failedRestarts, CatalogRestartPolicy.Backoff(_failedRestarts), CatalogErrors.Clean(ex.Message));
        }
    }

    /// <summary>
    /// The catalog standby this silo runs is started again once its postmaster is gone: with synchronous replication
    /// the primary's commits wait for it. It starts as what it is (a standby of the manifest's primary, or the primary
    /// once promoted); a failed start is logged and retried on the next check.
    /// </summary>
    private async Task SuperviseStandbyAsync(CatalogStandby standby, CancellationToken ct)
    {
        if (standby.Driver.PostmasterExists()) return;
        logger.LogError("The catalog standby's postmaster is gone (port {Port}); restarting it", standby.Driver.Port);
        try
        {
            await standby.Driver.StartAsync(ct);
            logger.LogWarning("The catalog standby was restarted on port {Port}", standby.Driver.Port);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("Restarting the catalog standby failed: {Error}", CatalogErrors.Clean(ex.Message));
        }
    }

    private async Task CheckAsync(string probe, CatalogOptions settings, CancellationToken ct)
    {
        string error = "";
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(settings.CheckTimeout);
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(timeout.Token);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                error = $"no answer within {settings.CheckTimeout.TotalSeconds:0.#} s (connect and SELECT 1)";
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                error = ex.Message;
            }
        }
        var (before, after) = health.ReportCheck(error.Length == 0, error, settings.UnreachableAfter);
        if (before.Reachable && !after.Reachable)
        {
            logger.LogError("ALERT catalog unreachable since {Since:u} ({Endpoint}): {Error}; commands are refused until it returns",
                after.Since, after.Endpoint, after.LastError);
        }
        else if (!before.Reachable && after.Reachable)
        {
            logger.LogWarning("The catalog is reachable again ({Endpoint}) after an outage since {Since:u}", after.Endpoint, before.Since);
            ClearPools();
        }
    }

    /// <summary>
    /// After a restart or an outage the pools hold connections to a server that is gone: drop them, so the
    /// gateway's and Orleans' next calls open new ones instead of failing once on each stale one.
    /// </summary>
    private void ClearPools()
    {
        security.DataSource.Clear();
        using var orleans = new NpgsqlConnection(instances.CatalogConnectionString);
        NpgsqlConnection.ClearPool(orleans);
    }

    /// <summary>The catalog's connection string for checks: unpooled and with timeouts shorter than the check's.</summary>
    internal static string ProbeConnectionString(string catalog, TimeSpan checkTimeout)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(checkTimeout.TotalSeconds));
        return new NpgsqlConnectionStringBuilder(catalog)
        {
            Pooling = false,
            Timeout = seconds,
            CommandTimeout = seconds,
            CancellationTimeout = -1,
            ApplicationName = "controlplane-catalog-check",
        }.ConnectionString;
    }
}
