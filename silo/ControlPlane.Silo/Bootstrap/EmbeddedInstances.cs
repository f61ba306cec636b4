using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Silo.Catalog;
using ControlPlane.Silo.Hosting;
using Npgsql;

namespace ControlPlane.Silo.Bootstrap;

/// <summary>
/// The PostgreSQL instances a silo needs before Orleans can start: the catalog (embedded or external, migrated
/// either way) and the fleet's tiers (the embedded local fleet, the configured tiers, or none).
/// </summary>
public sealed class EmbeddedInstances
{
    private readonly CatalogInstance? _catalog;
    private readonly LocalFleet? _fleet;
    private CatalogStandby? _standby;
    private CatalogLock? _lock;

    private EmbeddedInstances(string catalogConnectionString, string catalogDescription, IReadOnlyList<TierSpec> tiers, CatalogInstance? catalog, LocalFleet? fleet)
    {
        CatalogConnectionString = catalogConnectionString;
        CatalogDescription = catalogDescription;
        Tiers = tiers;
        _catalog = catalog;
        _fleet = fleet;
    }

    /// <summary>Connection string of the catalog, password included: hand it to Npgsql only, never print it.</summary>
    public string CatalogConnectionString { get; }

    /// <summary>Where the catalog is, without credentials, for people.</summary>
    public string CatalogDescription { get; }

    public IReadOnlyList<TierSpec> Tiers { get; }

    /// <summary>The embedded catalog instance, when this silo runs it (null for an external or joined catalog).</summary>
    public CatalogInstance? Catalog => _catalog;

    /// <summary>The catalog standby this silo runs (<c>--catalog-standby</c>), or null.</summary>
    public CatalogStandby? CatalogStandby => _standby;

    /// <summary>Data directory of the silo that provisioned the embedded catalog (this one, or the joined one); null for an external catalog.</summary>
    public string? CatalogDirectory { get; private init; }

    /// <summary>The local fleet, when this silo runs one (chaos tests and drills reach instances through it).</summary>
    public LocalFleet? LocalFleet => _fleet;

    public static async Task<EmbeddedInstances> StartAsync(ControlPlaneOptions options, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger("ControlPlane.Bootstrap");
        Directory.CreateDirectory(options.DataDirectory);

        var catalogDirectory = !string.IsNullOrWhiteSpace(options.Join) ? Path.GetFullPath(options.Join)
            : string.IsNullOrWhiteSpace(options.Catalog.ConnectionString) ? options.DataDirectory : null;
        // Before anything starts: a bad standby directory changes nothing.
        var standbyDirectory = options.Catalog.Standby && catalogDirectory is not null ? StandbyDirectory(options, catalogDirectory) : null;
        CatalogInstance? catalog = null;
        CatalogStandby? standby = null;
        LocalFleet? fleet = null;
        CatalogLock? held = null;
        try
        {
            string connectionString;
            string description;
            if (!string.IsNullOrWhiteSpace(options.Join))
            {
                try
                {
                    connectionString = CatalogInstance.ConnectionStringOf(options.Join);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or System.Text.Json.JsonException)
                {
                    throw new ControlPlaneConfigurationException($"ControlPlane:Join '{options.Join}': {ex.Message}");
                }
                var csb = new NpgsqlConnectionStringBuilder(connectionString);
                description = $"joined, embedded catalog of {Path.GetFullPath(options.Join)} at {Endpoints(csb)}";
            }
            else if (string.IsNullOrWhiteSpace(options.Catalog.ConnectionString))
            {
                // Keeps catalog-restore away while this silo runs (and restarts) the catalog.
                held = CatalogLock.TryAcquire(options.DataDirectory, out var holder);
                if (held is null) logger.LogWarning("{Lock} is held by process {Holder}; another silo or a catalog restore uses this data directory", CatalogLock.FileName, holder);
                // A standby of this silo's that was promoted starts first: the first instance rejoins under it.
                if (standbyDirectory is not null && await PromotedAsync(options.DataDirectory, ct))
                    standby = await StartStandbyAsync(options, options.DataDirectory, standbyDirectory, logger, ct);
                catalog = await CatalogInstance.EnsureAsync(options.DataDirectory, logger, ct);
                connectionString = catalog.ConnectionString;
                var csb = new NpgsqlConnectionStringBuilder(connectionString);
                description = $"embedded, {Endpoints(csb)} database {csb.Database}";
            }
            else
            {
                connectionString = ExternalCatalog(options.Catalog);
                var csb = new NpgsqlConnectionStringBuilder(connectionString);
                description = $"external, {Endpoints(csb)} database {csb.Database}";
            }

            if (standbyDirectory is not null && catalogDirectory is not null)
            {
                standby ??= await StartStandbyAsync(options, catalogDirectory, standbyDirectory, logger, ct);
                // Every member now: the primary and this standby, whichever is writable is found by Npgsql.
                connectionString = CatalogInstance.ConnectionStringOf(catalogDirectory);
                description += $", standby {standby.Driver.Host}:{standby.Driver.Port} ({(options.Catalog.Synchronous ? "synchronous" : "asynchronous")})";
            }
            await CatalogWritable.RequireAsync(connectionString, ct);

            await using (var dataSource = NpgsqlDataSource.Create(connectionString))
            {
                var applied = await new CatalogMigrator().ApplyAsync(dataSource, ct);
                if (applied.Count > 0) logger.LogInformation("Catalog migrations applied: {Migrations}", string.Join(", ", applied));
            }

            IReadOnlyList<TierSpec> tiers = [];
            switch (options.Fleet)
            {
                case FleetSource.Local:
                    var fleetOptions = new LocalFleetOptions(options.DataDirectory)
                    {
                        Environment = options.Environment,
                        StandbysPerTier = options.StandbysPerTier,
                        Tiers = options.LocalTiers.Count > 0 ? options.LocalTiers : LocalFleetOptions.DefaultTiers,
                    };
                    fleet = new LocalFleet(fleetOptions, logger);
                    var topology = await fleet.ProvisionAsync(ct);
                    tiers = ToSpecs(options.Environment, topology, fleetOptions.ReplicatorPasswordFile);
                    break;
                case FleetSource.Config:
                    tiers = options.Tiers.Select(t => new TierSpec(options.Environment, t.Name, t.Primary,
                        t.Replicas.Select(r => new ReplicaSpec(options.Environment, t.Name, r.Name, r.Host, r.Port, r.Database, r.User,
                            Path.GetFullPath(r.PasswordFile), r.DataDirectory,
                            r.ReplicatorPasswordFile is null ? null : Path.GetFullPath(r.ReplicatorPasswordFile), r.HostName)).ToList())).ToList();
                    break;
                case FleetSource.None:
                    break;
            }
            return new EmbeddedInstances(connectionString, description, tiers, catalog, fleet)
            {
                _lock = held, _standby = standby, CatalogDirectory = catalogDirectory,
            };
        }
        catch
        {
            if (fleet is not null) await fleet.StopAsync(CancellationToken.None);
            if (catalog is not null) await catalog.StopAsync(CancellationToken.None);
            if (standby is not null) await standby.StopAsync(CancellationToken.None);
            held?.Dispose();
            throw;
        }
    }

    /// <summary>How long the catalog gets to stop when the silo stops; see <see cref="StopAsync"/>.</summary>
    public static readonly TimeSpan CatalogStopBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Stops the local fleet, then the catalog: nothing may still write to the catalog when it stops. The catalog
    /// gets <see cref="CatalogStopBound"/>: a stopped (SIGSTOP) or hung postmaster cannot act on the stop request now,
    /// so the silo leaves it pending (it shuts down fast as soon as the postmaster runs again) rather than wait.
    /// </summary>
    public async Task StopAsync(CancellationToken ct)
    {
        if (_fleet is not null) await _fleet.StopAsync(ct);
        if (_catalog is not null)
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(CatalogStopBound);
            try
            {
                await _catalog.StopAsync(bound.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                Console.Error.WriteLine(
                    $"The catalog ({_catalog}) did not stop within {CatalogStopBound.TotalSeconds:0} s (stopped or hung?); its fast shutdown stays requested and happens when it runs again.");
            }
        }
        // After the primary: with a synchronous standby, the primary's last writes wait for it.
        if (_standby is not null) await _standby.StopAsync(ct);
        // Pooled connections to a stopped catalog are dead; a silo started again in this process must not get one.
        using var pooled = new NpgsqlConnection(CatalogConnectionString);
        NpgsqlConnection.ClearPool(pooled);
        // Only now: a catalog stop still pending must not meet a restored catalog.
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>host:port of every host of a connection string, for people.</summary>
    private static string Endpoints(NpgsqlConnectionStringBuilder csb) => string.Join(',', ControlPlane.Postgres.Fleet.CatalogConnectionString.Hosts(csb));

    private static string StandbyDirectory(ControlPlaneOptions options, string catalogDirectory)
    {
        var directory = Path.GetFullPath(string.IsNullOrWhiteSpace(options.Catalog.StandbyDataDirectory)
            ? Path.Combine(options.DataDirectory, "catalog-standby", "data")
            : options.Catalog.StandbyDataDirectory);
        if (CatalogStandby.Problem(catalogDirectory, directory) is { } problem)
            throw new ControlPlaneConfigurationException($"ControlPlane:Catalog:StandbyDataDirectory: {problem}");
        return directory;
    }

    /// <summary>The catalog manifest under <paramref name="catalogDirectory"/> names the standby primary (it was promoted).</summary>
    private static async Task<bool> PromotedAsync(string catalogDirectory, CancellationToken ct) =>
        await CatalogManifest.ReadAsync(Path.Combine(catalogDirectory, CatalogInstance.ManifestFile), ct) is { } manifest
        && manifest.PrimaryName == CatalogStandby.Name;

    private static async Task<CatalogStandby> StartStandbyAsync(ControlPlaneOptions options, string catalogDirectory, string directory, ILogger logger, CancellationToken ct)
    {
        try
        {
            return await CatalogStandby.EnsureAsync(catalogDirectory, directory, options.Catalog.Synchronous, logger, ct);
        }
        catch (FileNotFoundException ex)
        {
            throw new ControlPlaneConfigurationException($"ControlPlane:Catalog:Standby: {ex.Message}");
        }
    }

    internal static IReadOnlyList<TierSpec> ToSpecs(string environment, FleetTopology topology, Func<string, string> replicatorPasswordFile) =>
        topology.Tiers.Select(t => new TierSpec(environment, t.Name, t.InitialPrimary,
            t.Replicas.Select(r => new ReplicaSpec(environment, t.Name, r.Name, r.Host, r.Port, r.Database, r.User, r.PasswordFile, r.DataDirectory,
                replicatorPasswordFile(t.Name))).ToList())).ToList();

    private static string ExternalCatalog(CatalogOptions catalog)
    {
        NpgsqlConnectionStringBuilder csb;
        try
        {
            csb = new NpgsqlConnectionStringBuilder(catalog.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ControlPlaneConfigurationException($"ControlPlane:Catalog:ConnectionString is not a valid connection string: {ex.Message}");
        }
        if (ControlPlane.Postgres.Fleet.CatalogConnectionString.Problem(csb, "ControlPlane:Catalog:ConnectionString") is { } problem)
            throw new ControlPlaneConfigurationException(problem);
        if (!string.IsNullOrEmpty(csb.Password))
        {
            throw new ControlPlaneConfigurationException(
                "ControlPlane:Catalog:ConnectionString contains a password; put it in a file named by ControlPlane:Catalog:PasswordFile instead.");
        }
        if (!string.IsNullOrWhiteSpace(catalog.PasswordFile))
        {
            if (!File.Exists(catalog.PasswordFile))
                throw new ControlPlaneConfigurationException($"ControlPlane:Catalog:PasswordFile '{catalog.PasswordFile}' does not exist.");
            csb.Password = File.ReadAllText(catalog.PasswordFile).Trim();
        }
        return csb.ConnectionString;
    }
}
