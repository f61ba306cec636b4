using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Fleet;

/// <summary>
/// A streaming standby of the embedded catalog (docs/catalog.md, "HA catalog"), run by a silo started with
/// <c>--catalog-standby</c>: the silo that provisioned the catalog (a second local instance) or a silo that joined it
/// (the standby then lives in the joining silo's data directory, on its simulated host). It uses the catalog's own
/// secrets, is recorded in the catalog's manifest so every silo's multi-host connection string names it, and is
/// made synchronous by default: the primary then acknowledges a commit only once the standby has it.
/// </summary>
public sealed class CatalogStandby
{
    public const string Name = "catalog-standby";
    public const string Slot = "catalog_standby";

    private const string StreamingState =
        "SELECT sync_state FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming' LIMIT 1";

    private CatalogStandby(LocalInstanceDriver driver, string catalogDirectory)
    {
        Driver = driver;
        CatalogDirectory = catalogDirectory;
    }

    public LocalInstanceDriver Driver { get; }

    /// <summary>Data directory of the silo that provisioned the catalog (where catalog.json and the secrets are).</summary>
    public string CatalogDirectory { get; }

    /// <summary>
    /// Why <paramref name="standbyDataDirectory"/> cannot hold a standby of the catalog provisioned under
    /// <paramref name="catalogDirectory"/>, or null: it must not be, contain or lie inside the primary's data directory.
    /// </summary>
    public static string? Problem(string catalogDirectory, string standbyDataDirectory)
    {
        var primary = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(catalogDirectory, "catalog", "data")));
        var standby = Path.TrimEndingDirectorySeparator(Path.GetFullPath(standbyDataDirectory));
        if (string.Equals(primary, standby, StringComparison.Ordinal))
            return $"the catalog standby's data directory '{standby}' is the catalog primary's own data directory; give the standby a directory of its own.";
        if (standby.StartsWith(primary + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            return $"the catalog standby's data directory '{standby}' lies inside the catalog primary's data directory '{primary}'.";
        if (primary.StartsWith(standby + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            return $"the catalog standby's data directory '{standby}' contains the catalog primary's data directory '{primary}'.";
        return null;
    }

    /// <summary>
    /// Creates the standby (slot on the primary, base backup, standby.signal) or starts the existing one, records it in
    /// the manifest and, when <paramref name="synchronous"/>, makes the primary wait for it: returns once it streams
    /// (as a synchronous standby when asked). The primary must run.
    /// </summary>
    public static async Task<CatalogStandby> EnsureAsync(string catalogDirectory, string standbyDataDirectory, bool synchronous, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(logger);
        var root = Path.GetFullPath(catalogDirectory);
        if (Problem(root, standbyDataDirectory) is { } problem) throw new ArgumentException(problem, nameof(standbyDataDirectory));
        var manifestPath = Path.Combine(root, CatalogInstance.ManifestFile);
        var manifest = await CatalogManifest.ReadAsync(manifestPath, ct).ConfigureAwait(false)
            ?? throw new FileNotFoundException($"no embedded catalog under {root}: expected {CatalogInstance.ManifestFile} there");
        var superuser = Path.Combine(root, "secrets", "catalog.superuser");
        var replicator = Path.Combine(root, "secrets", CatalogInstance.ReplicatorSecret);
        if (!File.Exists(replicator))
            throw new FileNotFoundException($"the catalog under {root} has no replicator secret (secrets/{CatalogInstance.ReplicatorSecret}); start its silo once with this release first");

        var remembered = manifest.Standbys?.FirstOrDefault(s => s.Name == Name)?.Port;
        var driver = new LocalInstanceDriver(
            new LocalInstanceOptions("catalog", Name, standbyDataDirectory, remembered ?? 0, superuser, replicator), logger);
        await driver.AdoptPortAsync(remembered, ct).ConfigureAwait(false);
        var primary = manifest.Members(Path.Combine(root, "catalog", "data")).First(m => m.Name == manifest.PrimaryName);
        if (manifest.PrimaryName == Name)
        {
            // This standby was promoted: it is the catalog's primary now, and starts as one.
            await driver.StartAsync(ct).ConfigureAwait(false);
        }
        else if (driver.IsInitialized)
        {
            driver.SetUpstream(primary.Endpoint(superuser), Slot);
            await driver.StartAsync(ct).ConfigureAwait(false);
        }
        else
        {
            logger.LogInformation("Creating the catalog standby in {DataDirectory} from {Host}:{Port}", driver.DataDirectory, primary.Host, primary.Port);
            await driver.CreateStandbyAsync(primary.Endpoint(superuser), Slot, ct).ConfigureAwait(false);
        }
        var member = new CatalogMember(Name, driver.Host, driver.Port, driver.DataDirectory);
        await CatalogManifest.UpdateAsync(manifestPath, m => m with { Standbys = [member], Asynchronous = !synchronous }, ct).ConfigureAwait(false);

        if (manifest.PrimaryName != Name)
        {
            var endpoint = primary.Endpoint(superuser);
            await SqlFailoverOps.SetSynchronousStandbyNamesAsync(endpoint,
                synchronous ? SynchronousNames : SynchronousStandbyNames.None, ct).ConfigureAwait(false);
            await WaitStreamingAsync(endpoint, synchronous, TimeSpan.FromSeconds(90), ct).ConfigureAwait(false);
            logger.LogInformation("Catalog standby streams from {Host}:{Port} ({Mode})", primary.Host, primary.Port, synchronous ? "synchronous" : "asynchronous");
        }
        return new CatalogStandby(driver, root);
    }

    /// <summary>
    /// The primary's <c>synchronous_standby_names</c>: either instance, whichever is the standby, so the setting stays
    /// right after a promotion and a rejoin (an instance never streams from itself).
    /// </summary>
    public static string SynchronousNames => SynchronousStandbyNames.Any(1, [CatalogInstance.PrimaryName, Name]);

    /// <summary>Waits until <paramref name="primary"/> sees a standby named <see cref="Name"/> streaming (synchronously when asked).</summary>
    public static async Task WaitStreamingAsync(ReplicaEndpoint primary, bool synchronous, TimeSpan timeout, CancellationToken ct, string name = Name)
    {
        ArgumentNullException.ThrowIfNull(primary);
        var deadline = DateTime.UtcNow + timeout;
        var last = "(none)";
        while (true)
        {
            await using (var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false))
            {
                last = await AdminSql.ScalarAsync(connection, StreamingState, ct, name).ConfigureAwait(false) as string ?? "(not streaming)";
            }
            if (last is "sync" or "quorum" || (!synchronous && last != "(not streaming)")) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the catalog standby {name} does not stream {(synchronous ? "synchronously " : "")}from {primary.Host}:{primary.Port} within {timeout.TotalSeconds:0} s (last state: {last}).");
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Promotes <paramref name="standby"/> once the decision is persisted in the manifest: first kills whatever processes
    /// of the old primary (under <paramref name="catalogDirectory"/>) still exist on this machine (a frozen or hung
    /// postmaster, thawed, would be first in every silo's host list and take writes that wait forever for a standby),
    /// then promotes, then stops waiting for a standby nobody is left to be until the old primary rejoins.
    /// </summary>
    public static async Task PromoteAsync(LocalInstanceDriver standby, string catalogDirectory, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(standby);
        var oldPrimary = new LocalInstanceDriver(new LocalInstanceOptions("catalog", CatalogInstance.PrimaryName,
            Path.Combine(catalogDirectory, "catalog", "data"), 0, standby.Endpoint.PasswordFile, null), logger);
        await oldPrimary.FenceAsync(ct).ConfigureAwait(false);
        await standby.PromoteAsync(ct).ConfigureAwait(false);
        await SqlFailoverOps.SetSynchronousStandbyNamesAsync(standby.Endpoint, SynchronousStandbyNames.None, ct).ConfigureAwait(false);
    }

    /// <summary>Stops the standby (fast shutdown).</summary>
    public Task StopAsync(CancellationToken ct) => Driver.StopAsync(StopMode.Fast, ct);

    public override string ToString() => $"catalog standby on {Driver.Host}:{Driver.Port}";
}
