using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Security;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// Replicas that join a tier at run time (a standby restored from a backup): kept apart from the registered
/// topology, so a re-registration at start-up (which knows only the local fleet's manifest) keeps them.
/// </summary>
public sealed partial class TierGrain
{
    public async Task<TierSnapshot?> AdoptReplica(ReplicaSpec replica, string principal)
    {
        ArgumentNullException.ThrowIfNull(replica);
        var current = state.State;
        var spec = current.Spec ?? throw new TierConflictException($"tier {this.GetPrimaryKeyString()} is not registered yet.");
        if (spec.Replicas.Any(r => r.Name == replica.Name || (r.Host == replica.Host && r.Port == replica.Port)))
            throw new TierConflictException($"tier {spec.Name} already has a replica named {replica.Name} or at {replica.Address}.");
        var primary = spec.Replicas.FirstOrDefault(r => r.Name == current.Primary)
            ?? throw new TierConflictException($"tier {spec.Name} has no primary to stream from.");
        current.Adopted.Add(replica);
        current.Spec = spec with { Replicas = [.. spec.Replicas.Append(replica)] };
        await SaveStateAsync();
        logger.LogWarning("{Tier}: {Replica} ({Address}) joins the tier as a standby, asked by {Principal}", spec.Name, replica.Name, replica.Address, principal);
        AuditReplica("tier/adopt-replica", principal, spec, replica.Name, $"{replica.Name} at {replica.Address} joins as a standby of {primary.Name} in term {current.Term}");
        await Replica(current.Spec, replica.Name).Configure(replica, Schedule);
        // Onto its own slot on the primary, so the primary keeps the WAL it still needs.
        await Replica(current.Spec, replica.Name).Repoint(primary, current.Term);
        await EvaluateAsync(forcePublish: true);
        return await GetSnapshot();
    }

    public async Task ReleaseReplica(string name, string principal)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var current = state.State;
        if (current.Spec is not { } spec || current.Adopted.All(r => r.Name != name)) return;
        if (current.Primary == name) throw new TierConflictException($"{name} is the primary of tier {spec.Name}; switch over to another replica before releasing it.");
        current.Adopted.RemoveAll(r => r.Name == name);
        current.Spec = spec with { Replicas = [.. spec.Replicas.Where(r => r.Name != name)] };
        _latest.Remove(name);
        await SaveStateAsync();
        await Replica(spec, name).Retire();
        logger.LogWarning("{Tier}: {Replica} leaves the tier, asked by {Principal}", spec.Name, name, principal);
        AuditReplica("tier/release-replica", principal, spec, name, $"{name} no longer a replica of the tier");
        await EvaluateAsync(forcePublish: true);
    }

    private void AuditReplica(string action, string principal, TierSpec spec, string replica, string detail) =>
        _ = audit.AppendAsync(new AuditEntry
        {
            Principal = principal,
            Rpc = action,
            Outcome = AuditOutcome.Ok,
            Target = $"{spec.Environment}/{spec.Name}/{replica}",
            Detail = detail,
        }, CancellationToken.None);

    /// <summary>The registered topology plus the replicas adopted at run time.</summary>
    private TierSpec WithAdopted(TierSpec spec)
    {
        var adopted = state.State.Adopted.Where(a => spec.Replicas.All(r => r.Name != a.Name)).ToList();
        return adopted.Count == 0 ? spec : spec with { Replicas = [.. spec.Replicas.Concat(adopted)] };
    }
}
