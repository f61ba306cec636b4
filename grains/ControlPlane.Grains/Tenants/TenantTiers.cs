using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Tenants;

/// <summary>The tier's current primary, as its tier grain last saw it: where tenant statements run.</summary>
internal static class TenantTiers
{
    public static async Task<ReplicaEndpoint> PrimaryAsync(IGrainFactory grains, string env, string tier)
    {
        var grain = grains.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier));
        var snapshot = await grain.GetSnapshot() ?? throw new InvalidOperationException($"tier {env}/{tier} has not been probed yet.");
        var spec = await grain.GetSpec() ?? throw new InvalidOperationException($"tier {env}/{tier} is not registered.");
        var primary = spec.Replicas.FirstOrDefault(r => r.Name == snapshot.Primary)
            ?? throw new InvalidOperationException($"tier {env}/{tier} has no known primary.");
        return ReplicaGrain.Endpoint(primary);
    }
}

/// <summary>
/// Where the environment's pseudonym key lives: a 0600 file of 256 random bits, created on first use. One key per
/// environment, so pseudonyms agree across tiers; its value goes only into the HMAC, never into a log, error or reply.
/// </summary>
public sealed class PseudonymKeyFile(string path)
{
    public string Path { get; } = path;

    public async Task<Pseudonymiser> LoadAsync(CancellationToken ct)
    {
        await SecretFile.EnsureAsync(Path, ct).ConfigureAwait(false);
        return new Pseudonymiser(System.Text.Encoding.UTF8.GetBytes(SecretFile.Read(Path)));
    }
}
