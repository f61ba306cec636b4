using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Hosts;

/// <summary>
/// Creates a tier from nothing on its hosts (docs/hosts.md): the silo of the host of a tier's configured primary runs
/// initdb there when its <c>DataDirectory</c> holds no cluster and no other replica of the tier answers. Standbys need
/// nothing here: the tier rejoins a standby that does not answer, through the silo of its host, and a rejoin of an
/// empty data directory is a base backup. An instance that exists is always left to its tier: after a node loss the
/// old primary must come back as a standby, never as itself; and a primary whose disk was lost while a standby took
/// over is rebuilt as a standby, not created again.
/// </summary>
internal sealed class HostInstances(IOptions<ControlPlaneOptions> options, ILogger<HostInstances> logger) : BackgroundService
{
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Host.IsDeclared || o.Fleet != FleetSource.Config) return;
        foreach (var tier in o.Tiers)
        {
            var primary = tier.Replicas.Single(r => r.Name == tier.Primary);
            if (primary.HostName != o.Host.Name || primary.DataDirectory is null) continue;
            var driver = Driver(tier, primary);
            if (driver.IsInitialized) continue;
            if (await AnyOtherAnswersAsync(tier, stoppingToken) is { } other)
            {
                logger.LogWarning("Host {Host}: {Tier}/{Replica} has no cluster in {DataDirectory} but {Other} answers; the tier rebuilds it as a standby",
                    o.Host.Name, tier.Name, primary.Name, primary.DataDirectory, other);
                continue;
            }
            logger.LogWarning("Host {Host}: creating the primary {Tier}/{Replica} on {Address}:{Port}", o.Host.Name, tier.Name, primary.Name, primary.Host, primary.Port);
            await driver.InitPrimaryAsync(stoppingToken);
        }
    }

    /// <summary>A replica of the tier whose server listens (whatever it answers): then the tier exists somewhere.</summary>
    private static async Task<string?> AnyOtherAnswersAsync(ConfiguredTier tier, CancellationToken ct)
    {
        foreach (var r in tier.Replicas.Where(r => r.Name != tier.Primary))
        {
            var endpoint = new ReplicaEndpoint(tier.Name, r.Name, r.Host, r.Port, r.Database, r.User, Path.GetFullPath(r.PasswordFile), null);
            await using var probe = new SessionProbe(endpoint, AnswerTimeout);
            var check = await probe.CheckAsync(ct);
            if (check.Outcome is not (SessionOutcome.Refused or SessionOutcome.ConnectTimedOut or SessionOutcome.NotChecked)) return r.Name;
        }
        return null;
    }

    private LocalInstanceDriver Driver(ConfiguredTier tier, ConfiguredReplica replica) =>
        new(new LocalInstanceOptions(tier.Name, replica.Name, replica.DataDirectory!, replica.Port, Path.GetFullPath(replica.PasswordFile),
            replica.ReplicatorPasswordFile is null ? null : Path.GetFullPath(replica.ReplicatorPasswordFile))
        {
            ListenAddress = replica.Host,
            PeerNetworks = options.Value.Host.PeerNetworks,
        }, logger);
}
