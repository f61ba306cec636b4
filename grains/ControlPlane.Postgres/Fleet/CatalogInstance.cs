using System.Text.Json;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Postgres.Fleet;

/// <summary>
/// The control plane's own PostgreSQL (membership, grain state, reminders) when no catalog connection string
/// is configured: one instance under <c>&lt;dataDir&gt;/catalog</c> with its own secret and remembered port.
/// </summary>
public sealed class CatalogInstance
{
    public const string DatabaseName = "controlplane";

    private CatalogInstance(LocalInstanceDriver driver, string connectionString)
    {
        Driver = driver;
        ConnectionString = connectionString;
    }

    /// <summary>Connection string to the <c>controlplane</c> database; carries the password, so never log it.</summary>
    public string ConnectionString { get; }

    public LocalInstanceDriver Driver { get; }

    public ReplicaEndpoint Endpoint => Driver.Endpoint;

    /// <summary>Provisions the catalog instance or reuses it (already running is fine) and ensures the database.</summary>
    public static async Task<CatalogInstance> EnsureAsync(string dataDirectory, ILogger logger, CancellationToken ct)
    {
        var root = Path.Combine(Path.GetFullPath(dataDirectory), "catalog");
        var secrets = Path.Combine(Path.GetFullPath(dataDirectory), "secrets");
        Directory.CreateDirectory(secrets);
        UnixFile.SetMode(secrets, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var passwordFile = Path.Combine(secrets, "catalog.superuser");
        await SecretFile.EnsureAsync(passwordFile, ct).ConfigureAwait(false);
        // The replicator's secret exists from the start, so a catalog standby (docs/catalog.md, "HA catalog") can be
        // added later without touching the primary's configuration.
        var replicatorFile = Path.Combine(secrets, ReplicatorSecret);
        await SecretFile.EnsureAsync(replicatorFile, ct).ConfigureAwait(false);

        var manifestPath = Path.Combine(dataDirectory, ManifestFile);
        var manifest = await CatalogManifest.ReadAsync(manifestPath, ct).ConfigureAwait(false);
        int? remembered = manifest?.Port;

        var driver = new LocalInstanceDriver(
            new LocalInstanceOptions("catalog", PrimaryName, Path.Combine(root, "data"), remembered ?? 0, passwordFile, replicatorFile),
            logger);
        await driver.AdoptPortAsync(remembered, ct).ConfigureAwait(false);
        if (driver.IsInitialized) await StartFencedAsync(driver, dataDirectory, logger, ct).ConfigureAwait(false);
        else await driver.InitPrimaryAsync(ct).ConfigureAwait(false);
        // Read after the start: a port taken before the server bound it moved.
        var port = driver.Port;
        await CatalogManifest.UpdateAsync(manifestPath, m => m with { Port = port }, ct).ConfigureAwait(false);
        if (!driver.IsStandby) await driver.EnsureReplicatorRoleAsync(ct).ConfigureAwait(false);

        if (!driver.IsStandby)
        {
            await using var connection = await AdminSql.OpenAsync(driver.Endpoint, ct).ConfigureAwait(false);
            var exists = (bool)(await AdminSql.ScalarAsync(connection, AdminSql.DatabaseExists, ct, DatabaseName).ConfigureAwait(false))!;
            if (!exists)
            {
                logger.LogInformation("Creating database {Database} in the catalog instance", DatabaseName);
                await AdminSql.ExecuteFormattedAsync(connection, AdminSql.CreateDatabase, ct, DatabaseName).ConfigureAwait(false);
            }
        }

        logger.LogInformation("Catalog instance ready on {Host}:{Port}, database {Database}", driver.Endpoint.Host, port, DatabaseName);
        return new CatalogInstance(driver, ConnectionStringOf(dataDirectory));
    }

    /// <summary>
    /// Starts the first catalog instance, fenced (<see cref="CatalogFencePolicy"/>): as it is when the manifest still
    /// names it primary (or it already is a standby, then of its peer); rewound (pg_rewind, else a base backup) into a
    /// synchronous standby of its peer when the peer was promoted. The caller holds no manifest lock; this takes it, so
    /// a promotion and this start never interleave.
    /// </summary>
    public static async Task StartFencedAsync(LocalInstanceDriver driver, string dataDirectory, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(driver);
        var manifestPath = Path.Combine(Path.GetFullPath(dataDirectory), ManifestFile);
        using var held = await CatalogManifest.LockAsync(manifestPath, ct).ConfigureAwait(false);
        var manifest = await CatalogManifest.ReadAsync(manifestPath, ct).ConfigureAwait(false) ?? new CatalogManifest(driver.Port);
        var superuser = driver.Endpoint.PasswordFile;
        var peer = manifest.Standbys?.FirstOrDefault(s => s.Name != PrimaryName)?.Endpoint(superuser);
        switch (CatalogFencePolicy.Decide(PrimaryName, manifest.PrimaryName, driver.IsStandby))
        {
            case CatalogStartAction.RejoinAsStandby when peer is not null:
                logger.LogWarning("The catalog's manifest names {Primary} primary (promotion {Promotions}): rewinding {Name} into its standby instead of starting it as a primary",
                    manifest.PrimaryName, manifest.Promotions, PrimaryName);
                await RejoinPeerAsync(driver, peer, manifest.Asynchronous, logger, ct).ConfigureAwait(false);
                return;
            case CatalogStartAction.RejoinAsStandby:
                throw new InvalidOperationException($"the catalog's manifest names {manifest.PrimaryName} primary but does not say where it is; {PrimaryName} is not started as a primary.");
            default:
                if (driver.IsStandby && peer is not null) driver.SetUpstream(peer, PrimarySlot);
                await driver.StartAsync(ct).ConfigureAwait(false);
                return;
        }
    }

    /// <summary>
    /// Rejoins the old primary under its promoted peer, retrying while the peer is only slow or briefly unreachable (a
    /// host that just took over answers late under load): a silo start must not die on the first connect timeout.
    /// Every step of the rejoin is idempotent, so an attempt that failed half way is simply run again.
    /// </summary>
    private static async Task RejoinPeerAsync(LocalInstanceDriver driver, ReplicaEndpoint peer, bool asynchronous, ILogger logger, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + RejoinPatience;
        var wait = TimeSpan.FromSeconds(1);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var report = await driver.RejoinAsync(peer, PrimarySlot, ct).ConfigureAwait(false);
                logger.LogWarning("The old catalog primary rejoined as a standby of {Primary}: {Path}, because {Reason}", peer.Name, report.Path, report.Reason);
                await Failover.SqlFailoverOps.SetSynchronousStandbyNamesAsync(peer,
                    asynchronous ? Failover.SynchronousStandbyNames.None : CatalogStandby.SynchronousNames, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException && !ct.IsCancellationRequested)
            {
                if (DateTimeOffset.UtcNow + wait > deadline)
                {
                    throw new InvalidOperationException(
                        $"{PrimaryName} could not rejoin as a standby of {peer.Name} ({peer.Host}:{peer.Port}) within {RejoinPatience.TotalSeconds:0} s ({attempt} attempts); last error: {ex.Message}", ex);
                }
                logger.LogWarning("Rejoining {Name} under {Primary} failed (attempt {Attempt}, retrying in {Wait} s): {Error}",
                    PrimaryName, peer.Name, attempt, wait.TotalSeconds, ex.Message);
                await Task.Delay(wait, ct).ConfigureAwait(false);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxRejoinWait.Ticks));
            }
        }
    }

    private static readonly TimeSpan RejoinPatience = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan MaxRejoinWait = TimeSpan.FromSeconds(10);

    /// <summary>Name of the catalog instance that starts as primary (also its application_name as a standby).</summary>
    public const string PrimaryName = "catalog";

    /// <summary>Slot on the standby that the first catalog instance streams through once it was rejoined.</summary>
    public const string PrimarySlot = "catalog_primary";

    public const string ManifestFile = "catalog.json";
    public const string ReplicatorSecret = "catalog.replicator";

    /// <summary>
    /// The connection string of a catalog instance another silo on this host runs under <paramref name="dataDirectory"/>,
    /// so more silos can join its cluster. Reads the remembered port and the secret; starts nothing.
    /// </summary>
    public static string ConnectionStringOf(string dataDirectory)
    {
        var full = Path.GetFullPath(dataDirectory);
        var manifestPath = Path.Combine(full, ManifestFile);
        var passwordFile = Path.Combine(full, "secrets", "catalog.superuser");
        if (!File.Exists(manifestPath) || !File.Exists(passwordFile))
        {
            throw new FileNotFoundException(
                $"no embedded catalog under {full}: expected catalog.json and secrets/catalog.superuser there (start the first silo with --data-dir {full})");
        }
        var manifest = JsonSerializer.Deserialize<CatalogManifest>(File.ReadAllText(manifestPath))
            ?? throw new InvalidDataException($"{manifestPath} is empty");
        return CatalogConnectionString.ForMembers(manifest.Members(), DatabaseName, "postgres", SecretFile.Read(passwordFile));
    }

    /// <summary>Stops the catalog instance (fast shutdown).</summary>
    public Task StopAsync(CancellationToken ct) => Driver.StopAsync(StopMode.Fast, ct);

    public override string ToString() => $"catalog on 127.0.0.1:{Driver.Port}";
}
