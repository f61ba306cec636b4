using System.Diagnostics;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// The catalog primary lost while its replication is degraded (docs/catalog.md, "When the standby is lost"), made for
/// real on a silo (a child process) with <c>--catalog-standby</c>: the standby frozen until the primary commits without
/// it, then the silo and the catalog primary SIGKILLed and the standby thawed. Nothing promotes the standby on its own;
/// <c>catalog-promote</c> refuses without <c>--accept-data-loss</c>, and while the primary answers, then promotes it;
/// the silo started again runs the promoted standby first and rewinds the old primary into its synchronous standby.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class CatalogForcedPromotionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_standby_that_may_lack_writes_is_promoted_only_by_hand_with_the_loss_accepted_and_the_old_primary_rejoins_under_it()
    {
        await using var silos = new OneTierSilos("cp-catpromote-", "oltp");
        var silo = silos.Launch("--fleet", "none", "--catalog-standby");
        var admin = await silos.ConnectAsync(silo);
        var catalog = new CatalogService.CatalogServiceClient(admin);
        await silo.WaitUntilAsync(async () => (await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Replication is { Observed: true, WaitsForStandby: true });
        var manifestPath = Path.Combine(silos.DataDirectory, CatalogInstance.ManifestFile);
        var member = (await ReadAsync(manifestPath)).Standbys!.Single();
        var superuser = Path.Combine(silos.DataDirectory, "secrets", "catalog.superuser");
        var standby = new LocalInstanceDriver(new LocalInstanceOptions("catalog", member.Name, member.DataDirectory, member.Port, superuser, null), NullLogger.Instance);
        var primary = await silos.CatalogDriverAsync();

        // Bad input and a live primary: refused, nothing changed.
        var missing = await PromoteAsync();
        Assert.True(missing.ExitCode == 2, $"exit {missing.ExitCode}: {missing.Output}{missing.Error}");
        Assert.Contains("--catalog-dir DIR is required", missing.Error, StringComparison.Ordinal);
        var nowhere = await PromoteAsync("--catalog-dir", Path.Combine(silos.Root, "nowhere"), "--accept-data-loss");
        Assert.True(nowhere.ExitCode == 2, $"exit {nowhere.ExitCode}: {nowhere.Output}{nowhere.Error}");
        Assert.Contains("holds no embedded catalog", nowhere.Error, StringComparison.Ordinal);
        var alive = await PromoteAsync("--catalog-dir", silos.DataDirectory, "--accept-data-loss");
        Assert.True(alive.ExitCode == 2, $"exit {alive.ExitCode}: {alive.Output}{alive.Error}");
        Assert.Contains("has a running postmaster on this machine", alive.Error, StringComparison.Ordinal);
        Assert.Contains("a promotion now would make two primaries", alive.Error, StringComparison.Ordinal);
        Assert.Null((await ReadAsync(manifestPath)).Primary);

        // Degraded: the standby frozen until the primary commits without it; then the primary's host is lost.
        await standby.SignalAllAsync(InstanceSignal.Stop, CancellationToken.None);
        try
        {
            await silo.WaitUntilAsync(async () => (await ReadAsync(manifestPath)).SynchronousDegradedSince is not null, TimeSpan.FromMinutes(1));
            silo.Kill();
            await primary.SignalAllAsync(InstanceSignal.Kill, CancellationToken.None);
        }
        finally
        {
            await standby.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
        }
        var degraded = await ReadAsync(manifestPath);
        output.WriteLine($"degraded since {degraded.SynchronousDegradedSince:u}: {degraded.SynchronousDegradedReason}");

        var refused = await PromoteAsync("--catalog-dir", silos.DataDirectory);
        Assert.True(refused.ExitCode == 2, $"exit {refused.ExitCode}: {refused.Output}{refused.Error}");
        Assert.Contains("the replication was degraded since", refused.Error, StringComparison.Ordinal);
        Assert.Contains("Repeat with --accept-data-loss", refused.Error, StringComparison.Ordinal);
        Assert.Null((await ReadAsync(manifestPath)).Primary);

        var forced = await PromoteAsync("--catalog-dir", silos.DataDirectory, "--accept-data-loss");
        output.WriteLine(forced.Output + forced.Error);
        Assert.True(forced.ExitCode == 0, $"exit {forced.ExitCode}: {forced.Output}{forced.Error}");
        var decided = await ReadAsync(manifestPath);
        Assert.Equal(CatalogStandby.Name, decided.PrimaryName);
        Assert.Equal(1, decided.Promotions);
        Assert.Contains("forced", decided.SynchronousDegradedReason, StringComparison.Ordinal);
        Assert.False(await InRecoveryAsync(standby.Endpoint));

        // The silo again: the promoted standby starts first, the old primary is rewound under it and catches up.
        var again = silos.Launch("--fleet", "none", "--catalog-standby");
        var watch = Stopwatch.StartNew();
        await again.WaitUntilAsync(async () => (await ReadAsync(manifestPath)).SynchronousDegradedSince is null, TimeSpan.FromMinutes(3));
        output.WriteLine($"the old primary a synchronous standby of the promoted one {watch.Elapsed.TotalSeconds:0.0} s after the silo's start");
        Assert.True(await InRecoveryAsync(primary.Endpoint));
        // The catalog's synchrony keeper runs before Orleans and the gateway start: the mark may clear before the
        // silo serves. Commands are accepted once it does.
        var security = new SecurityService.SecurityServiceClient(await silos.ConnectAsync(again));
        var attempt = 0;
        await again.WaitUntilAsync(async () =>
        {
            try
            {
                return (await security.CreateTokenAsync(new CreateTokenRequest { Name = $"after-forced-promotion-{++attempt}", Role = Role.Viewer },
                    deadline: DateTime.UtcNow.AddSeconds(30))).Token.Length > 0;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                return false;
            }
        }, TimeSpan.FromMinutes(2));
    }

    private static async Task<CatalogManifest> ReadAsync(string path) => (await CatalogManifest.ReadAsync(path, CancellationToken.None))!;

    private static Task<bool> InRecoveryAsync(ReplicaEndpoint endpoint) => CatalogProbe.InRecoveryAsync(endpoint);

    private static Task<(int ExitCode, string Output, string Error)> PromoteAsync(params string[] args) =>
        SiloChild.RunVerbAsync("catalog-promote", args, TimeSpan.FromMinutes(3));
}
