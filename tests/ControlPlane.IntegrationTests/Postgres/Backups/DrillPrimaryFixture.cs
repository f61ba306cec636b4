using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

/// <summary>
/// One primary (no standby) for the restore-drill and tenant-export tests, which lock every table, create restore
/// points and take base backups: things the shared pair's tests should not have to share an instance with.
/// </summary>
public sealed class DrillPrimaryFixture : IAsyncLifetime
{
    public const string Tier = "drill";

    public string Root { get; } = Directory.CreateTempSubdirectory("cp-drill-").FullName;
    public LocalInstanceDriver Primary { get; private set; } = null!;
    public string SuperuserPasswordFile => Path.Combine(Root, "secrets", "drill.superuser");
    public string ReplicatorPasswordFile => Path.Combine(Root, "secrets", "drill.replicator");

    public async Task InitializeAsync()
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(Root, "secrets"));
            await SecretFile.EnsureAsync(SuperuserPasswordFile, CancellationToken.None);
            await SecretFile.EnsureAsync(ReplicatorPasswordFile, CancellationToken.None);
            Primary = Driver("drill-1", Path.Combine(Root, "drill-1", "data"));
            await Primary.InitPrimaryAsync(CancellationToken.None);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (Primary is not null)
        {
            try { await Primary.StopAsync(StopMode.Immediate, CancellationToken.None); }
            catch (Exception e) when (e is ProcessFailedException or TimeoutException) { }
        }
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>A driver for an instance of this tier (the primary, or a copy of it) on a free port.</summary>
    public LocalInstanceDriver Driver(string name, string dataDirectory) =>
        new(new LocalInstanceOptions(Tier, name, dataDirectory, FreePort.Pick(), SuperuserPasswordFile, ReplicatorPasswordFile), NullLogger.Instance);
}

[CollectionDefinition(Name)]
public sealed class DrillPrimaryCollection : ICollectionFixture<DrillPrimaryFixture>
{
    public const string Name = "Backups drill primary";
}
