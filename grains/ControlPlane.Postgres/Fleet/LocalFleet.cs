using System.Collections.Concurrent;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Fleet;

/// <summary>
/// The embedded fleet of environment "local": per tier a primary and streaming standbys on this host.
/// The first start provisions everything; later starts reuse data, secrets and (when still free) ports, and
/// only start what is not already running. The role of each instance is what its data directory says
/// (<c>standby.signal</c> = standby), so a failover done while the fleet ran survives a restart; the
/// manifest only remembers ports and, for tie-breaking, the last known primary.
/// </summary>
public sealed class LocalFleet(LocalFleetOptions options, ILogger logger)
{
    private readonly ConcurrentDictionary<string, LocalInstanceDriver> _drivers = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _manifestLock = new(1, 1);

    public LocalFleetOptions Options => options;

    /// <summary>The topology from the last <see cref="ProvisionAsync(CancellationToken)"/>.</summary>
    public FleetTopology? Topology { get; private set; }

    public IReadOnlyList<LocalInstanceDriver> Drivers => _drivers.Values.OrderBy(d => d.Name, StringComparer.Ordinal).ToList();

    public LocalInstanceDriver Driver(string tier, string replica) =>
        _drivers.TryGetValue(replica, out var d) && d.Tier == tier
            ? d
            : throw new KeyNotFoundException($"No local instance '{replica}' in tier '{tier}'; known: {string.Join(", ", _drivers.Keys.Order(StringComparer.Ordinal))}.");

    /// <summary>Provisions (or reuses) and starts a local fleet; returns its topology.</summary>
    public static Task<FleetTopology> ProvisionAsync(LocalFleetOptions options, ILogger logger, CancellationToken ct) =>
        new LocalFleet(options, logger).ProvisionAsync(ct);

    /// <summary>Stops every instance of the local fleet under <paramref name="options"/> (fast shutdown).</summary>
    public static Task StopAsync(LocalFleetOptions options, ILogger logger, CancellationToken ct) =>
        new LocalFleet(options, logger).StopAsync(ct);

    public async Task<FleetTopology> ProvisionAsync(CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.FleetDirectory);
        Directory.CreateDirectory(options.SecretsDirectory);
        UnixFile.SetMode(options.SecretsDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var manifest = FleetManifest.Load(options.ManifestPath);

        var tiers = new ConcurrentDictionary<string, TierTopology>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(options.Tiers,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = ct },
            async (tier, token) =>
            {
                var topology = await ProvisionTierAsync(tier, manifest, token).ConfigureAwait(false);
                tiers[tier] = topology;
                await RememberAsync(tier, topology, token).ConfigureAwait(false);
            }).ConfigureAwait(false);

        Topology = new FleetTopology(options.Environment, options.Tiers.Select(t => tiers[t]).ToList());
        return Topology;
    }

    /// <summary>Stops every instance (fast shutdown), including ones started by an earlier process.</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (_drivers.IsEmpty) LoadDrivers(FleetManifest.Load(options.ManifestPath));
        // Standbys first (all at once), then primaries (all at once): standbys do not log a burst of reconnect
        // failures against a stopping primary, and nine instances stop in two rounds instead of nine.
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        foreach (var round in _drivers.Values.GroupBy(d => d.IsStandby).OrderByDescending(g => g.Key))
        {
            await Task.WhenAll(round.Select(async driver =>
            {
                try { await driver.StopAsync(StopMode.Fast, ct).ConfigureAwait(false); }
                catch (Exception e) when (e is ProcessFailedException or TimeoutException)
                {
                    logger.LogError(e, "Could not stop {Tier}/{Replica}", driver.Tier, driver.Name);
                    failures.Add(e);
                }
            })).ConfigureAwait(false);
        }
        if (!failures.IsEmpty) throw new AggregateException("Some local fleet instances did not stop.", failures);
    }

    private async Task<TierTopology> ProvisionTierAsync(string tier, FleetManifest manifest, CancellationToken ct)
    {
        await SecretFile.EnsureAsync(options.SuperuserPasswordFile(tier), ct).ConfigureAwait(false);
        await SecretFile.EnsureAsync(options.ReplicatorPasswordFile(tier), ct).ConfigureAwait(false);

        var names = options.ReplicaNames(tier);
        var drivers = names.Select(n => CreateDriver(tier, n, manifest.PortOf(tier, n))).ToList();
        foreach (var d in drivers) await d.AdoptPortAsync(manifest.PortOf(tier, d.Name), ct).ConfigureAwait(false);

        var primary = ChoosePrimary(tier, drivers, manifest);
        if (primary.IsInitialized)
        {
            await primary.StartAsync(ct).ConfigureAwait(false);
        }
        else
        {
            await primary.InitPrimaryAsync(ct).ConfigureAwait(false);
            // Before any standby is cloned from it, so every instance of the tier has the table the term lives in.
            await Failover.TermHistory.EnsureAsync(primary.Endpoint, ct).ConfigureAwait(false);
        }

        // Top statements for monitoring (docs/monitoring.md): the library is preloaded by every instance's settings.
        if (StatementsAvailable()) await Monitoring.PerfInspector.EnsureStatementsExtensionAsync(primary.Endpoint, ct).ConfigureAwait(false);

        foreach (var standby in drivers.Where(d => d != primary))
        {
            var slot = LocalFleetOptions.SlotName(standby.Name);
            if (standby.RejoinPending)
            {
                await ResumeRejoinAsync(standby, primary, slot, ct).ConfigureAwait(false);
            }
            else if (standby.IsInitialized)
            {
                // After a failover the new primary may lack this standby's slot.
                await primary.EnsureSlotAsync(slot, ct).ConfigureAwait(false);
                standby.SetUpstream(primary.Endpoint, slot);
                await standby.StartAsync(ct).ConfigureAwait(false);
            }
            else
            {
                await standby.CreateStandbyAsync(primary.Endpoint, slot, ct).ConfigureAwait(false);
            }
        }
        return new TierTopology(tier, primary.Name, drivers.Select(d => d.Endpoint).ToList());
    }

    /// <summary>
    /// A rejoin the previous process did not finish (<see cref="LocalInstanceDriver.RejoinPending"/>) is carried out
    /// again, as a rejoin (pg_rewind, else a base backup), never as a start that would run the directory as a primary.
    /// One that fails leaves the instance stopped and marked: the tier heals it as an unreachable standby.
    /// </summary>
    private async Task ResumeRejoinAsync(LocalInstanceDriver standby, LocalInstanceDriver primary, string slot, CancellationToken ct)
    {
        logger.LogWarning("{Tier}/{Replica}: its rejoin as a standby was interrupted; resuming it against {Primary}", standby.Tier, standby.Name, primary.Name);
        try
        {
            var report = await standby.RejoinAsync(primary.Endpoint, slot, ct).ConfigureAwait(false);
            logger.LogWarning("{Tier}/{Replica}: interrupted rejoin resumed: {Path}, because {Reason}", standby.Tier, standby.Name, report.Path, report.Reason);
        }
        catch (Exception e) when (e is ProcessFailedException or TimeoutException or InvalidOperationException or Npgsql.NpgsqlException or IOException)
        {
            logger.LogError(e, "{Tier}/{Replica}: resuming its interrupted rejoin failed; it stays stopped until the tier heals it", standby.Tier, standby.Name);
        }
    }

    private static bool StatementsAvailable() => Monitoring.StatementsPreload.Settings(Instances.PgBinaries.Shared).Count > 0;

    private LocalInstanceDriver ChoosePrimary(string tier, IReadOnlyList<LocalInstanceDriver> drivers, FleetManifest manifest)
    {
        var remembered = manifest.Tiers.TryGetValue(tier, out var t) ? t.Primary : null;
        var initialized = drivers.Where(d => d.IsInitialized).ToList();
        if (initialized.Count == 0) return drivers[0];

        // An interrupted rejoin has no standby.signal yet, but it is no primary: it is resumed as a rejoin.
        var primaries = initialized.Where(d => !d.IsStandby && !d.RejoinPending).ToList();
        if (primaries.Count == 1) return primaries[0];
        var fallback = primaries.Count > 0 ? primaries : initialized;
        var chosen = fallback.FirstOrDefault(d => d.Name == remembered) ?? fallback[0];
        logger.LogWarning(
            "Tier {Tier} has {Count} instances without standby.signal ({Names}); treating {Primary} as primary",
            tier, primaries.Count, string.Join(", ", primaries.Select(p => p.Name)), chosen.Name);
        return chosen;
    }

    private LocalInstanceDriver CreateDriver(string tier, string replica, int? port)
    {
        var driver = new LocalInstanceDriver(
            new LocalInstanceOptions(tier, replica, options.ReplicaDataDirectory(tier, replica), port ?? 0,
                options.SuperuserPasswordFile(tier), options.ReplicatorPasswordFile(tier)),
            logger);
        _drivers[replica] = driver;
        return driver;
    }

    private void LoadDrivers(FleetManifest manifest)
    {
        foreach (var tier in options.Tiers)
        {
            foreach (var name in options.ReplicaNames(tier))
            {
                if (Directory.Exists(options.ReplicaDataDirectory(tier, name))) CreateDriver(tier, name, manifest.PortOf(tier, name));
            }
        }
    }

    private async Task RememberAsync(string tier, TierTopology topology, CancellationToken ct)
    {
        await _manifestLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var manifest = FleetManifest.Load(options.ManifestPath).With(tier,
                new TierManifest(topology.InitialPrimary, topology.Replicas.ToDictionary(r => r.Name, r => r.Port, StringComparer.Ordinal)));
            await OsUser.WriteFileAsync(options.ManifestPath, manifest.ToJson(),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, forPostgres: false, ct).ConfigureAwait(false);
        }
        finally
        {
            _manifestLock.Release();
        }
    }
}
