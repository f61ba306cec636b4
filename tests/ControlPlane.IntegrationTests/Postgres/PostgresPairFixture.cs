using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres;

/// <summary>
/// A primary and one streaming standby on free loopback ports in a temporary directory, shared by the
/// Postgres tests. Stopped and removed at the end, also when tests (or this fixture's start) fail.
/// </summary>
public sealed class PostgresPairFixture : IAsyncLifetime
{
    public const string Tier = "test";
    public const string SlotName = "test_2";

    public string Root { get; } = Directory.CreateTempSubdirectory("cp-pg-").FullName;
    public LocalInstanceDriver Primary { get; private set; } = null!;
    public LocalInstanceDriver Standby { get; private set; } = null!;
    public string SuperuserPasswordFile => Path.Combine(Root, "secrets", "test.superuser");
    public string ReplicatorPasswordFile => Path.Combine(Root, "secrets", "test.replicator");

    public async Task InitializeAsync()
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(Root, "secrets"));
            await SecretFile.EnsureAsync(SuperuserPasswordFile, CancellationToken.None);
            await SecretFile.EnsureAsync(ReplicatorPasswordFile, CancellationToken.None);
            Primary = Driver("test-1");
            Standby = Driver("test-2");
            await Primary.InitPrimaryAsync(CancellationToken.None);
            await Standby.CreateStandbyAsync(Primary.Endpoint, SlotName, CancellationToken.None);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var driver in new[] { Standby, Primary })
        {
            if (driver is null) continue;
            try { await driver.StopAsync(StopMode.Immediate, CancellationToken.None); }
            catch (Exception e) when (e is ProcessFailedException or TimeoutException) { }
        }
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }

    public LocalInstanceDriver Driver(string name) =>
        new(new LocalInstanceOptions(Tier, name, Path.Combine(Root, name, "data"), FreePort.Pick(), SuperuserPasswordFile, ReplicatorPasswordFile),
            NullLogger.Instance);
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresPairFixture>, ICollectionFixture<Failover.FailoverPairTemplate>
{
    public const string Name = "Postgres";
}

internal static class Poll
{
    /// <summary>Polls until <paramref name="condition"/> holds; the limit only keeps a broken run from hanging.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what)
    {
        var limit = DateTime.UtcNow.AddSeconds(90);
        T last;
        do
        {
            last = await probe();
            if (condition(last)) return last;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < limit);
        throw new Xunit.Sdk.XunitException($"Gave up waiting for {what}; last seen: {last}");
    }
}
