using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Fleet;

/// <summary>Persistent part of an environment: its tiers, in the order they were registered.</summary>
[GenerateSerializer, Alias("controlplane.FleetState")]
public sealed class FleetState
{
    [Id(0)] public List<string> Tiers { get; set; } = [];
}

/// <summary>Registry of an environment's tiers; hands each tier its topology.</summary>
public sealed class FleetGrain(
    [PersistentState("fleet", FleetKeys.Storage)] IPersistentState<FleetState> state) : Grain, IFleetGrain
{
    public async Task Register(IReadOnlyList<TierSpec> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        var environment = this.GetPrimaryKeyString();
        foreach (var tier in tiers)
        {
            if (tier.Environment != environment)
                throw new ArgumentException($"tier {tier.Name} belongs to environment '{tier.Environment}', not '{environment}'", nameof(tiers));
        }
        var names = tiers.Select(t => t.Name).ToList();
        if (!names.SequenceEqual(state.State.Tiers))
        {
            state.State.Tiers = names;
            await state.WriteStateAsync();
        }
        await Task.WhenAll(tiers.Select(t => GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(environment, t.Name)).Configure(t)));
    }

    public Task<IReadOnlyList<string>> ListTiers() => Task.FromResult<IReadOnlyList<string>>(state.State.Tiers.ToList());
}
