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

        var manifestPath = Path.Combine(dataDirectory, "catalog.json");
        int? remembered = File.Exists(manifestPath)
            ? JsonSerializer.Deserialize<CatalogManifest>(await File.ReadAllTextAsync(manifestPath, ct).ConfigureAwait(false))?.Port
            : null;

        var driver = new LocalInstanceDriver(
            new LocalInstanceOptions("catalog", "catalog", Path.Combine(root, "data"), remembered ?? 0, passwordFile, ReplicatorPasswordFile: null),
            logger);
        await driver.AdoptPortAsync(remembered, ct).ConfigureAwait(false);
        if (driver.IsInitialized) await driver.StartAsync(ct).ConfigureAwait(false);
        else await driver.InitPrimaryAsync(ct).ConfigureAwait(false);
        // Read after the start: a port taken before the server bound it moved.
        var port = driver.Port;
        await OsUser.WriteFileAsync(manifestPath, JsonSerializer.Serialize(new CatalogManifest(port)),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, forPostgres: false, ct).ConfigureAwait(false);

        await using (var connection = await AdminSql.OpenAsync(driver.Endpoint, ct).ConfigureAwait(false))
        {
            var exists = (bool)(await AdminSql.ScalarAsync(connection, AdminSql.DatabaseExists, ct, DatabaseName).ConfigureAwait(false))!;
            if (!exists)
            {
                logger.LogInformation("Creating database {Database} in the catalog instance", DatabaseName);
                await AdminSql.ExecuteFormattedAsync(connection, AdminSql.CreateDatabase, ct, DatabaseName).ConfigureAwait(false);
            }
        }

        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = driver.Endpoint.Host,
            Port = port,
            Database = DatabaseName,
            Username = driver.Endpoint.User,
            Password = SecretFile.Read(passwordFile),
            ApplicationName = "controlplane",
        };
        logger.LogInformation("Catalog instance ready on {Host}:{Port}, database {Database}", cs.Host, port, DatabaseName);
        return new CatalogInstance(driver, cs.ConnectionString);
    }

    /// <summary>
    /// The connection string of a catalog instance another silo on this host runs under <paramref name="dataDirectory"/>,
    /// so more silos can join its cluster. Reads the remembered port and the secret; starts nothing.
    /// </summary>
    public static string ConnectionStringOf(string dataDirectory)
    {
        var full = Path.GetFullPath(dataDirectory);
        var manifestPath = Path.Combine(full, "catalog.json");
        var passwordFile = Path.Combine(full, "secrets", "catalog.superuser");
        if (!File.Exists(manifestPath) || !File.Exists(passwordFile))
        {
            throw new FileNotFoundException(
                $"no embedded catalog under {full}: expected catalog.json and secrets/catalog.superuser there (start the first silo with --data-dir {full})");
        }
        var manifest = JsonSerializer.Deserialize<CatalogManifest>(File.ReadAllText(manifestPath))
            ?? throw new InvalidDataException($"{manifestPath} is empty");
        return new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = manifest.Port,
            Database = DatabaseName,
            Username = "postgres",
            Password = SecretFile.Read(passwordFile),
            ApplicationName = "controlplane",
        }.ConnectionString;
    }

    /// <summary>Stops the catalog instance (fast shutdown).</summary>
    public Task StopAsync(CancellationToken ct) => Driver.StopAsync(StopMode.Fast, ct);

    public override string ToString() => $"catalog on 127.0.0.1:{Driver.Port}";

    private sealed record CatalogManifest(int Port);
}
