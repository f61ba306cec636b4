using ControlPlane.Grains.Hosts;
using Orleans.Runtime.Placement;

namespace ControlPlane.Silo.Hosts;

/// <summary>
/// Orleans' side of <see cref="HostPlacement"/>: a silo's host is its silo name in the membership table
/// (<see cref="HostsHosting"/> sets it from <c>ControlPlane:Host:Name</c>); the grain's host comes from the
/// configured tiers (<see cref="ReplicaHosts"/>). The choice itself is <see cref="HostPlacementPolicy"/>.
/// </summary>
internal sealed class HostPlacementDirector(IClusterMembershipService membership, ReplicaHosts replicas) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var candidates = context.GetCompatibleSilos(target).OrderBy(s => s.ToString(), StringComparer.Ordinal).ToList();
        var members = membership.CurrentSnapshot.Members;
        var host = replicas.HostOf(target.GrainIdentity.Key.ToString()!);
        var chosen = HostPlacementPolicy.Choose(host, candidates, s => members.TryGetValue(s, out var m) ? m.Name : null,
            context.LocalSilo, Random.Shared.Next());
        return Task.FromResult(chosen);
    }
}

/// <summary>A host's silo is active when a member of that name is.</summary>
internal sealed class MembershipHostSilos(IClusterMembershipService membership) : IHostSilos
{
    public bool IsActive(string host) =>
        membership.CurrentSnapshot.Members.Values.Any(m => m.Status == SiloStatus.Active && string.Equals(m.Name, host, StringComparison.Ordinal));

    public IReadOnlyCollection<string> ActiveSilos() =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active && m.Name is not null).Select(m => m.Name!).ToList();
}
