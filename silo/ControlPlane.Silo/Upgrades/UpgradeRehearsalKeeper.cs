using ControlPlane.Grains.Upgrades;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Upgrades;

/// <summary>
/// Activates every tier's rehearsal grain soon after a silo starts (and keeps it active): its activation is what
/// finds a rehearsal a crash cut short, reports it interrupted and removes its scratch instances, so leftovers of a
/// dead silo do not wait for someone to ask about upgrades.
/// </summary>
internal sealed class UpgradeRehearsalKeeper(IClusterClient cluster, IOptions<ControlPlaneOptions> options, ILogger<UpgradeRehearsalKeeper> logger)
    : TierGrainKeeper(cluster, options.Value.Environment, logger)
{
    protected override bool Enabled => true;

    protected override Task EnsureAsync(IClusterClient cluster, string tierKey) => cluster.GetGrain<IUpgradeRehearsalGrain>(tierKey).List(1);
}
