using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Hardening;

/// <summary>One primary provisioned exactly as the silo provisions the local fleet, owned by the hardening tests alone
/// (they weaken it on purpose, so it is not shared with anyone else).</summary>
public sealed class HardeningInstanceFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("cp-hardening-").FullName;
    public LocalInstanceDriver Primary { get; private set; } = null!;
    public string SuperuserPasswordFile => Path.Combine(Root, "secrets", "superuser");

    public async Task InitializeAsync()
    {
        try
        {
            Directory.CreateDirectory(Path.Combine(Root, "secrets"));
            await SecretFile.EnsureAsync(SuperuserPasswordFile, CancellationToken.None);
            await SecretFile.EnsureAsync(Path.Combine(Root, "secrets", "replicator"), CancellationToken.None);
            Primary = new LocalInstanceDriver(
                new LocalInstanceOptions("audit", "audit-1", Path.Combine(Root, "audit-1", "data"), FreePort.Pick(), SuperuserPasswordFile, Path.Combine(Root, "secrets", "replicator")),
                NullLogger.Instance);
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
}
