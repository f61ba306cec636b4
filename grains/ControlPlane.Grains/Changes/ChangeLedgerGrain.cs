using ControlPlane.Grains.Fleet;

namespace ControlPlane.Grains.Changes;

[GenerateSerializer, Alias("controlplane.ChangeLedgerState")]
public sealed class ChangeLedgerState
{
    [Id(0)] public List<string> Changes { get; set; } = [];
    [Id(1)] public string Running { get; set; } = "";
    [Id(2)] public Dictionary<string, string> Tags { get; set; } = [];
}

/// <summary>The changes of one tier and the single rollout slot (persisted, so a restart keeps the tier claimed).</summary>
public sealed class ChangeLedgerGrain(
    [PersistentState("changeledger", FleetKeys.Storage)] IPersistentState<ChangeLedgerState> state) : Grain, IChangeLedgerGrain
{
    private ChangeLedgerState S => state.State;

    public async Task Add(string changeId)
    {
        if (S.Changes.Contains(changeId)) return;
        S.Changes.Add(changeId);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> List() => Task.FromResult<IReadOnlyList<string>>([.. S.Changes]);

    public async Task<string?> Claim(string changeId)
    {
        if (S.Running.Length > 0 && S.Running != changeId) return S.Running;
        if (S.Running == changeId) return null;
        S.Running = changeId;
        await state.WriteStateAsync();
        return null;
    }

    public async Task Release(string changeId)
    {
        if (S.Running != changeId) return;
        S.Running = "";
        await state.WriteStateAsync();
    }

    public async Task<string?> ClaimTag(string tag, string changeId)
    {
        if (S.Tags.TryGetValue(tag, out var owner)) return owner == changeId ? null : owner;
        S.Tags[tag] = changeId;
        await state.WriteStateAsync();
        return null;
    }
}
