using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>
/// Two silos of one cluster as child processes (the first runs the catalog and a one-tier fleet, the second joins
/// it), each with its own token cache and invalidation listener: what one silo revokes, the other must refuse.
/// </summary>
public sealed class TwoSilosFixture : IAsyncLifetime
{
    public const string TierName = "oltp";

    private readonly OneTierSilos _silos = new("cp-tokens-", TierName);

    public SiloChild First { get; private set; } = null!;
    public SiloChild Second { get; private set; } = null!;
    public string AdminToken { get; private set; } = "";

    public async Task InitializeAsync()
    {
        First = _silos.Launch();
        var admin = await _silos.ConnectAsync(First);
        AdminToken = (await File.ReadAllTextAsync(Path.Combine(_silos.DataDirectory, "admin.token"))).Trim();
        await WaitForTierAsync(First, admin);
        Second = _silos.LaunchJoined();
        await WaitForTierAsync(Second, Invoker(Second, AdminToken));
    }

    public Task DisposeAsync() => _silos.DisposeAsync().AsTask();

    public CallInvoker Invoker(SiloChild silo, string token) => _silos.Connect(silo, token);

    public Task<NpgsqlConnection> OpenCatalogAsync() => _silos.OpenCatalogAsync();

    /// <summary>A new viewer token, created through <paramref name="silo"/>.</summary>
    public async Task<string> CreateViewerAsync(SiloChild silo, string name)
    {
        var created = await new SecurityService.SecurityServiceClient(Invoker(silo, AdminToken)).CreateTokenAsync(
            new CreateTokenRequest { Name = $"{name}-{Guid.NewGuid().ToString("N")[..6]}", Role = Role.Viewer });
        SecurityTokens.Issued.Add(created.Token);
        return created.Token;
    }

    /// <summary>Waits until both silos' invalidation listeners are connected (after a start or a cut channel).</summary>
    public async Task WaitForListenersAsync()
    {
        foreach (var silo in new[] { First, Second })
        {
            var catalog = new CatalogService.CatalogServiceClient(Invoker(silo, AdminToken));
            await silo.WaitUntilAsync(async () => (await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).TokenListenerConnected,
                TimeSpan.FromMinutes(1));
        }
    }

    private static async Task WaitForTierAsync(SiloChild silo, CallInvoker invoker)
    {
        var fleet = new FleetService.FleetServiceClient(invoker);
        // RPC errors count as "not yet": the tier answers once the silo joined and reaches its grain.
        await silo.WaitUntilAsync(async () => (await fleet.GetTierAsync(new GetTierRequest { Tier = TierName })).Name == TierName);
    }
}

[CollectionDefinition(Name)]
public sealed class TwoSilosCollection : ICollectionFixture<TwoSilosFixture>
{
    public const string Name = "two-silos-tokens";
}
