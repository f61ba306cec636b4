using System.Net;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Hosts;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Hosts;

/// <summary>
/// Self-fencing of a host's primaries (docs/hosts.md, Partitions): a silo that reaches neither the catalog nor any
/// other silo for <see cref="SelfFenceSettings.After"/> makes its own writable instances refuse writes, before the
/// cluster can vote it dead and let another host promote. When it is back it lifts the fence only if the tier did
/// not move on. Runs on a declared host only; the decisions are <see cref="SelfFencePolicy"/>'s.
/// </summary>
internal sealed class SelfFencing(
    IOptions<ControlPlaneOptions> options,
    EmbeddedInstances instances,
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    IGrainFactory grains,
    ILogger<SelfFencing> logger) : BackgroundService
{
    private static readonly TimeSpan AskTierEvery = TimeSpan.FromSeconds(1);
    private readonly Dictionary<string, SelfFenceRecord?> _fences = new(StringComparer.Ordinal);
    private DateTimeOffset _tierAskedAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var settings = o.Host.SelfFence;
        var mine = instances.Tiers.SelectMany(t => t.Replicas)
            .Where(r => r.HostName == o.Host.Name && r.DataDirectory is not null).ToList();
        if (!o.Host.IsDeclared || mine.Count == 0) return;
        var journal = new SelfFenceJournal(Path.Combine(o.DataDirectory, "self-fence"));
        foreach (var r in mine) _fences[Key(r)] = journal.Read(r.Tier, r.Name);
        await using var contact = new ClusterContact(instances.CatalogConnectionString, settings.CheckInterval, TimeProvider.System);
        using var timer = new PeriodicTimer(settings.CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var peers = Peers();
            contact.Check(peers, settings.CheckInterval);
            foreach (var replica in mine)
            {
                try
                {
                    await StepAsync(replica, settings, contact, peers, journal, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogError(ex, "Self-fencing of {Tier}/{Replica}: the step failed; retrying at the next check", replica.Tier, replica.Name);
                }
            }
        }
    }

    private async Task StepAsync(ReplicaSpec replica, SelfFenceSettings settings, ClusterContact contact, IReadOnlyCollection<IPEndPoint> peers,
        SelfFenceJournal journal, CancellationToken ct)
    {
        var fence = _fences[Key(replica)];
        var now = DateTimeOffset.UtcNow;
        var view = new SelfFenceView(settings, now, contact.LastContact, peers.Count, fence, null, null);
        if (fence is not null)
        {
            // Asked only while in contact, and at most once a second: the answer decides whether the fence is lifted.
            if (now - contact.LastContact > settings.After || now - _tierAskedAt < AskTierEvery) return;
            _tierAskedAt = now;
            view = view with { Tier = await AskTierAsync(replica), Others = await OthersAsync(replica, settings, ct) };
        }
        var decision = SelfFencePolicy.Decide(view);
        switch (decision.Verdict)
        {
            case SelfFenceVerdict.CheckInstance:
                // Our own silence (a stalled process) is not the cluster's: ask once more, now, before fencing.
                if (await contact.ConfirmAsync(peers, settings.CheckInterval)) return;
                var probe = await ProbeAsync(replica, settings.CheckInterval * 2, ct);
                decision = SelfFencePolicy.Decide(view with { Now = DateTimeOffset.UtcNow, Writable = probe is { Reachable: true, InRecovery: false } });
                if (decision.Verdict != SelfFenceVerdict.Fence) return;
                var record = new SelfFenceRecord(replica.Tier, replica.Name, probe!.Term?.Term, settings.Action, DateTimeOffset.UtcNow, decision.Reason);
                // Persisted before acted on: a silo restarted after the partition must know it put the fence up.
                journal.Write(record);
                _fences[Key(replica)] = record;
                logger.LogCritical("Self-fencing {Tier}/{Replica} ({Action}) in term {Term}: {Reason}",
                    replica.Tier, replica.Name, settings.Action, record.Term, decision.Reason);
                await ApplyAsync(replica, settings.Action, ct);
                logger.LogCritical("Self-fenced {Tier}/{Replica}: it takes no writes until this silo is back in the cluster and the tier keeps it primary",
                    replica.Tier, replica.Name);
                break;
            case SelfFenceVerdict.Unfence:
                logger.LogWarning("Lifting the self-fence of {Tier}/{Replica}: {Reason}", replica.Tier, replica.Name, decision.Reason);
                await LiftAsync(replica, fence!.Action, ct);
                journal.Remove(replica.Tier, replica.Name);
                _fences[Key(replica)] = null;
                break;
            case SelfFenceVerdict.Release:
                logger.LogWarning("Self-fence of {Tier}/{Replica} left to the tier: {Reason}", replica.Tier, replica.Name, decision.Reason);
                journal.Remove(replica.Tier, replica.Name);
                _fences[Key(replica)] = null;
                break;
        }
    }

    private async Task ApplyAsync(ReplicaSpec replica, SelfFenceAction action, CancellationToken ct)
    {
        if (action == SelfFenceAction.Stop)
        {
            await Driver(replica).StopAsync(StopMode.Fast, ct);
            return;
        }
        var terminated = await SqlFailoverOps.FenceWritesAsync(Endpoint(replica), ct);
        logger.LogWarning("Self-fence of {Tier}/{Replica}: default_transaction_read_only on, {Sessions} client session(s) terminated", replica.Tier, replica.Name, terminated);
    }

    private async Task LiftAsync(ReplicaSpec replica, SelfFenceAction action, CancellationToken ct)
    {
        if (action == SelfFenceAction.Stop) await Driver(replica).StartAsync(ct);
        else await SqlFailoverOps.UnfenceWritesAsync(Endpoint(replica), ct);
    }

    private async Task<TierAnswer?> AskTierAsync(ReplicaSpec replica)
    {
        try
        {
            var snapshot = await grains.GetGrain<ITierGrain>(FleetKeys.Tier(replica.Environment, replica.Tier)).GetSnapshot()
                .WaitAsync(TimeSpan.FromSeconds(2));
            return snapshot is null ? null : new TierAnswer(snapshot.Term, snapshot.Primary);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException)
        {
            logger.LogDebug(ex, "Self-fencing: tier {Tier} does not answer yet", replica.Tier);
            return null;
        }
    }

    private async Task<IReadOnlyList<OtherReplica>> OthersAsync(ReplicaSpec replica, SelfFenceSettings settings, CancellationToken ct)
    {
        var tier = instances.Tiers.First(t => t.Name == replica.Tier && t.Environment == replica.Environment);
        var others = new List<OtherReplica>();
        foreach (var other in tier.Replicas.Where(r => r.Name != replica.Name))
        {
            var result = await ProbeAsync(other, settings.CheckInterval * 4, ct);
            others.Add(new OtherReplica(other.Name, result?.Reachable == true, result is { Reachable: true, InRecovery: false }, result?.Term?.Term));
        }
        return others;
    }

    private static async Task<ProbeResult?> ProbeAsync(ReplicaSpec replica, TimeSpan timeout, CancellationToken ct)
    {
        await using var probe = new ReplicaProbe(Endpoint(replica), timeout);
        return await probe.ProbeAsync(ct);
    }

    /// <summary>The endpoints of the other silos the cluster last knew as active.</summary>
    private IReadOnlyCollection<IPEndPoint> Peers() =>
        membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(local.SiloAddress))
            .Select(m => m.SiloAddress.Endpoint)
            .ToList();

    private LocalInstanceDriver Driver(ReplicaSpec r) =>
        new(new LocalInstanceOptions(r.Tier, r.Name, r.DataDirectory!, r.Port, r.PasswordFile, r.ReplicatorPasswordFile) { ListenAddress = r.Host }, logger);

    private static ReplicaEndpoint Endpoint(ReplicaSpec r) => new(r.Tier, r.Name, r.Host, r.Port, r.Database, r.User, r.PasswordFile, r.DataDirectory);

    private static string Key(ReplicaSpec r) => r.Tier + "/" + r.Name;
}
