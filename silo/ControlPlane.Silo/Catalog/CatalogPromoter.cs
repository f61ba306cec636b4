using ControlPlane.Grains.Catalog;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// On the silo that runs the catalog standby: while this silo finds the catalog unreachable, asks every last known
/// active silo over the cluster's own connections (<see cref="ICatalogVantageGrain"/>) whether it does too, and
/// promotes the standby once <see cref="CatalogPromotionPolicy"/> says a majority agrees. The promotion holds the
/// manifest's lock, checks once more that the primary does not answer, persists the decision in the manifest (the
/// fence the old primary obeys, <see cref="CatalogFencePolicy"/>), then promotes.
/// </summary>
internal sealed class CatalogPromoter(
    CatalogHealth health, EmbeddedInstances instances, IClusterMembershipService membership, IGrainFactory grains,
    ILocalSiloDetails self, Security.SecurityCatalog security, IOptions<ControlPlaneOptions> options, ILogger<CatalogPromoter> logger) : BackgroundService
{
    /// <summary>
    /// Activations asked per silo: a vantage grain whose directory partition sat on the lost silo cannot register;
    /// another one can. With three silos about a third of the keys land on the lost one's partition, so four spares all
    /// did once in a CI run (1 in 81) and the promotion waited for an answer that could never come. Sixteen make that
    /// about 1 in 43 million; they are asked at once, and only while the catalog is unreachable.
    /// </summary>
    private const int Spares = 16;

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(1.5);
    private string _lastReason = "";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (instances.CatalogStandby is not { } standby) return;
        var manifestPath = Path.Combine(standby.CatalogDirectory, CatalogInstance.ManifestFile);
        using var timer = new PeriodicTimer(options.Value.Catalog.CheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (health.Current.Reachable) continue;
                try
                {
                    await RoundAsync(standby, manifestPath, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError("Catalog promotion round failed: {Error}", CatalogErrors.Clean(ex.Message));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RoundAsync(CatalogStandby standby, string manifestPath, CancellationToken ct)
    {
        var manifest = await CatalogManifest.ReadAsync(manifestPath, ct) ?? throw new FileNotFoundException(manifestPath);
        var active = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress.ToParsableString()).ToList();
        var me = self.SiloAddress.ToParsableString();
        if (!active.Contains(me)) active.Add(me);
        var answers = new Dictionary<string, bool>(StringComparer.Ordinal) { [me] = health.Current.Reachable };
        var asked = await Task.WhenAll(active.Where(s => s != me).Select(AskAsync));
        foreach (var answer in asked.OfType<CatalogVantageAnswer>()) answers[answer.Silo] = answer.ReachesCatalog;
        var inRecovery = await InRecoveryAsync(standby.Driver.Endpoint, ct);
        var verdict = CatalogPromotionPolicy.Decide(new CatalogPromotionView(active, answers, inRecovery == true, manifest.PrimaryName, CatalogStandby.Name,
            manifest.SynchronousDegradedSince, manifest.SynchronousDegradedReason));
        if (verdict.Reason != _lastReason)
        {
            logger.LogWarning("Catalog promotion: {Action}, {Reason}", verdict.Action, verdict.Reason);
            _lastReason = verdict.Reason;
        }
        if (verdict.Action == CatalogPromotionAction.Promote) await PromoteAsync(standby, manifestPath, manifest, verdict, ct);
    }

    private async Task<CatalogVantageAnswer?> AskAsync(string silo)
    {
        var tries = Enumerable.Range(0, Spares).Select(async spare =>
        {
            try
            {
                return await grains.GetGrain<ICatalogVantageGrain>(CatalogVantageKey.Of(silo, spare)).AskAsync().WaitAsync(AskTimeout);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or SiloUnavailableException or OperationCanceledException)
            {
                return null;
            }
        }).ToList();
        foreach (var answer in await Task.WhenAll(tries))
        {
            if (answer is not null) return answer;
        }
        return null;
    }

    private async Task PromoteAsync(CatalogStandby standby, string manifestPath, CatalogManifest manifest, CatalogPromotionVerdict verdict, CancellationToken ct)
    {
        var superuser = standby.Driver.Endpoint.PasswordFile;
        var primary = manifest.Members().First(m => m.Name == manifest.PrimaryName);
        using (await CatalogManifest.LockAsync(manifestPath, ct))
        {
            // Under the lock a restart of the primary by its supervisor cannot be under way; if it came back, stand down.
            if (await InRecoveryAsync(primary.Endpoint(superuser), ct) is not null)
            {
                logger.LogWarning("Catalog promotion called off: the primary {Host}:{Port} answers again", primary.Host, primary.Port);
                return;
            }
            // The primary's silo may have stopped waiting for this standby since the round began (persisted under this lock).
            if (await CatalogManifest.ReadAsync(manifestPath, ct) is { SynchronousDegradedSince: { } since } degraded)
            {
                logger.LogError("Catalog promotion refused: the standby may lack acknowledged writes (synchronous replication degraded since {Since:u}: {Reason})",
                    since, degraded.SynchronousDegradedReason);
                return;
            }
            // The old primary lacks whatever the new one writes until it rejoins: marked degraded in the same write, so
            // nothing promotes it back before it is synchronous and caught up (CatalogSynchronyKeeper clears the mark).
            var decided = await CatalogManifest.UpdateLockedAsync(manifestPath, m => m with
            {
                Primary = CatalogStandby.Name,
                Promotions = m.Promotions + 1,
                SynchronousDegradedSince = m.Asynchronous ? null : DateTimeOffset.UtcNow,
                SynchronousDegradedReason = m.Asynchronous ? null : $"promotion {m.Promotions + 1}: {CatalogInstance.PrimaryName} has not rejoined as a standby yet",
            }, ct);
            logger.LogError("ALERT catalog failover: promoting the catalog standby {Host}:{Port} (promotion {Promotions}): {Reason}",
                standby.Driver.Host, standby.Driver.Port, decided.Promotions, verdict.Reason);
            await CatalogStandby.PromoteAsync(standby.Driver, standby.CatalogDirectory, logger, ct);
        }
        security.DataSource.Clear();
        using var orleans = new NpgsqlConnection(instances.CatalogConnectionString);
        NpgsqlConnection.ClearPool(orleans);
    }

    /// <summary>pg_is_in_recovery() of one instance, or null when it does not answer within a second.</summary>
    private static Task<bool?> InRecoveryAsync(ReplicaEndpoint endpoint, CancellationToken ct) =>
        CatalogPromoteCommand.InRecoveryAsync(endpoint, TimeSpan.FromSeconds(1), ct);
}
